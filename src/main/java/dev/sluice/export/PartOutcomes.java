package dev.sluice.export;

import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportPartTable;
import java.sql.SQLException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What becomes of a part after an attempt: finished (and its job completed when it was the
 * last), given back, retried later, or failing its job. The retry policy lives here: wait out
 * an unreachable store, retry other errors a few times, never a de-identification failure.
 */
public final class PartOutcomes {
  private static final Logger log = LoggerFactory.getLogger(PartOutcomes.class);

  private final ExportPartTable parts;
  private final ExportSettings settings;
  private final JobEnds ends;
  private final ExportMetrics metrics;
  private final String owner;

  public PartOutcomes(ExportPartTable parts, ExportSettings settings, JobEnds ends, ExportMetrics metrics, String owner) {
    this.parts = parts;
    this.settings = settings;
    this.ends = ends;
    this.metrics = metrics;
    this.owner = owner;
  }

  /** @return false when the part was no longer this process's: what it wrote must go */
  boolean finish(ExportJobRow job, ExportPartRow part, Written written) throws SQLException {
    switch (parts.finish(part, owner, written.resources(), written.bytes(), written.closed(), settings.retention())) {
      case NOT_OURS -> {
        return false;
      }
      case PART_DONE -> metrics.written(written.resources(), written.bytes(), written.files());
      case JOB_COMPLETED -> {
        metrics.written(written.resources(), written.bytes(), written.files());
        ends.completed(job.id());
      }
    }
    return true;
  }

  void failed(ExportJobRow job, ExportPartRow part, Exception e) {
    String what = part.resType() == null ? part.kind().sqlName() : part.resType();
    StoreUnreachable unreachable = StoreUnreachable.in(e);
    if (e instanceof Deidentifier.Failed deid) {
      // the same configuration fails the same resource again: no retry
      ends.fail(job.id(), 400, Issue.error(Issue.Code.PROCESSING, deid.getMessage())
          .withMessage(MessageCode.EXPORT_DEID_FAILED));
    } else if (unreachable != null) {
      int outages = part.outages() + 1;
      StoreRetry retry = settings.storeRetry();
      if (retry.exhausted(outages)) {
        log.error("Export {} part {}: the export store stayed unreachable", job.id(), part.partNo(), unreachable);
        ends.fail(job.id(), 500, Issue.error(Issue.Code.NO_STORE, "The export store was unreachable: exporting "
            + what + " was tried " + outages + " times over " + retry.patience().toSeconds() + " s; the last time "
            + unreachable.getMessage()).withMessage(MessageCode.EXPORT_STORE_UNREACHABLE));
      } else {
        log.warn("Export {} part {}: the export store was unreachable ({} of {} attempts); retried in {} ms: {}",
            job.id(), part.partNo(), outages, retry.attempts(), retry.backoff(outages).toMillis(),
            unreachable.getCause());
        metrics.partRetried("store-unreachable");
        retryLater(part, retry.backoff(outages));
      }
    } else if (part.attempt() - part.outages() >= settings.maxAttempts()) {
      log.error("Export {} part {} failed {} times; failing the job", job.id(), part.partNo(),
          part.attempt() - part.outages(), e);
      ends.fail(job.id(), 500, Issue.error(Issue.Code.EXCEPTION, "Exporting " + what + " failed "
          + (part.attempt() - part.outages()) + " times; the last error was: " + e.getMessage())
          .withMessage(MessageCode.EXPORT_PART_FAILED));
    } else {
      log.warn("Export {} part {} attempt {} failed; it will be retried", job.id(), part.partNo(), part.attempt(), e);
      metrics.partRetried("error");
      release(part);
    }
  }

  /** Gives the part back at once (shutting down, or an error worth another attempt). */
  void release(ExportPartRow part) {
    try {
      parts.release(part, owner);
    } catch (SQLException e) {
      // the lease lapses on its own and another worker takes the part
      log.warn("Export {} part {}: could not release: {}", part.jobId(), part.partNo(), e.toString());
    }
  }

  private void retryLater(ExportPartRow part, Duration wait) {
    try {
      parts.retryLater(part, owner, wait);
    } catch (SQLException e) {
      // the lease lapses on its own and another worker takes the part
      log.warn("Export {} part {}: could not give it back: {}", part.jobId(), part.partNo(), e.toString());
    }
  }
}

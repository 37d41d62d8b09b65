package dev.sluice.export;

import dev.sluice.fhir.Issue;
import dev.sluice.store.ExportJobTable;
import java.sql.SQLException;
import java.time.Duration;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a job ends: records a failure (status, message code and words, which status polls
 * answer with), and for every ending logs one line of what the job did (duration, resources,
 * bytes, files) and counts it in the metrics.
 */
public final class JobEnds {
  private static final Logger log = LoggerFactory.getLogger(JobEnds.class);

  private final ExportJobTable jobs;
  private final ExportSettings settings;
  private final ExportMetrics metrics;

  public JobEnds(ExportJobTable jobs, ExportSettings settings, ExportMetrics metrics) {
    this.jobs = jobs;
    this.settings = settings;
    this.metrics = metrics;
  }

  /** @param issue what a client is told; its message code is recorded with it */
  void fail(UUID job, int status, Issue issue) {
    try {
      if (jobs.fail(job, status, issue.message() == null ? null : issue.message().code(), issue.diagnostics(),
          settings.retention())) {
        metrics.jobEnded("failed");
        log.warn("Export {} failed ({}, {}) {}: {}", job, status, issue.message() == null ? "-" : issue.message().code(),
            summary(job), issue.diagnostics());
      }
    } catch (SQLException e) {
      log.error("Export {}: could not record its failure", job, e);
    }
  }

  /** Called by the process that completed the job (its last part, or the coordinator after a crash). */
  void completed(UUID job) {
    metrics.jobEnded("completed");
    log.info("Export {} completed {}", job, summary(job));
  }

  private String summary(UUID job) {
    try {
      ExportJobTable.Summary s = jobs.summary(job);
      return "after " + (s.took() == null ? "?" : s.took().toMillis() + " ms") + ": " + s.resources() + " resources, "
          + s.bytes() + " bytes in " + s.files() + " files";
    } catch (SQLException e) {
      return "(its figures could not be read: " + e + ")";
    }
  }
}

package dev.sluice.export;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobStatus;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ExportScan;
import dev.sluice.store.ExportScan.Membership;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports one claimed part, one method per part kind: streams its rows from PostgreSQL into
 * NDJSON files under a {@link LeaseKeeper}. A part that loses its lease (cancelled, or taken
 * over after a stall) stops and removes what it wrote; a failed attempt is given back for a
 * retry until {@code maxAttempts}, then fails its job.
 */
public final class PartWorker {
  private static final Logger log = LoggerFactory.getLogger(PartWorker.class);

  private final ExportSettings settings;
  private final ExportTables tables;
  private final ExportScan scan;
  private final OutputStore store;
  private final FhirModel fhir;
  private final PatientCompartment compartment;
  private final SearchParser search;
  private final AnonymizationConfigs anonymizations;
  private final LeaseKeeper leases;
  private final JobNotes notes;
  private final JobEnds ends;
  private final ExportMetrics metrics;
  private final String owner;

  public PartWorker(ExportSettings settings, ExportTables tables, ExportScan scan, OutputStore store, FhirModel fhir,
      PatientCompartment compartment, SearchParser search, AnonymizationConfigs anonymizations, LeaseKeeper leases,
      JobNotes notes, JobEnds ends, ExportMetrics metrics, String owner) {
    this.settings = settings;
    this.tables = tables;
    this.scan = scan;
    this.store = store;
    this.fhir = fhir;
    this.compartment = compartment;
    this.search = search;
    this.anonymizations = anonymizations;
    this.leases = leases;
    this.notes = notes;
    this.ends = ends;
    this.metrics = metrics;
    this.owner = owner;
  }

  /** What a finished attempt wrote. */
  private record Written(long resources, long bytes, long files) {}

  void run(ExportPartRow part, AtomicBoolean stopping) {
    ExportJobRow job;
    try {
      Optional<ExportJobRow> found = tables.jobs().find(part.jobId());
      if (found.isEmpty() || found.get().status() != ExportJobStatus.RUNNING) {
        return;
      }
      job = found.get();
    } catch (SQLException e) {
      log.warn("Export {} part {}: could not start ({}); it will be retried", part.jobId(), part.partNo(), e.toString());
      release(part);
      return;
    }
    long started = System.nanoTime();
    LeaseKeeper.Lease lease = null;
    try (ExportScan.Session session = scan.open()) {
      for (ExportFileRow old : tables.files().discardEarlierAttempts(part)) {
        store.delete(job.container(), job.id(), old.name());
      }
      Written written;
      lease = leases.keep(part, session, stopping);
      try {
        written = export(job, part, session);
      } finally {
        lease.close();
      }
      ExportPartTable.Finished finished = lease.lost() ? ExportPartTable.Finished.NOT_OURS
          : tables.parts().finish(part, owner, written.resources(), written.bytes(), settings.retention());
      switch (finished) {
        case NOT_OURS -> {
          discard(job, part);
          return;
        }
        case PART_DONE -> metrics.written(written.resources(), written.bytes(), written.files());
        case JOB_COMPLETED -> {
          metrics.written(written.resources(), written.bytes(), written.files());
          ends.completed(job.id());
        }
      }
      log.debug("Export {} part {} ({} {}..{}): {} resources, {} bytes in {} ms", job.id(), part.partNo(),
          part.resType(), part.pkFrom(), part.pkTo(), written.resources(), written.bytes(),
          (System.nanoTime() - started) / 1_000_000);
    } catch (Exception e) {
      boolean lost = lease != null && lease.lost();
      if (lost || stopping.get()) {
        // cancelled, taken over, or shutting down: the scan was stopped on purpose
        discard(job, part);
        if (stopping.get() && !lost) {
          release(part);
        }
        return;
      }
      discard(job, part);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      failed(job, part, e);
    }
  }

  /** The retry policy: wait out an unreachable store, retry other errors a few times, never a de-identification. */
  private void failed(ExportJobRow job, ExportPartRow part, Exception e) {
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

  private Written export(ExportJobRow job, ExportPartRow part, ExportScan.Session session) throws Exception {
    ExportRequest request = ExportRequest.fromJson(job.requestJson());
    return switch (part.kind()) {
      case RESOURCES -> resources(job, request, part, session);
      case DELETED -> deletions(job, request, part, session);
      case NOTES -> notes(job, request, part);
    };
  }

  private Written resources(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    String type = part.resType();
    Membership membership = switch (request.level()) {
      case ExportLevel.System s -> Membership.ALL;
      case ExportLevel.Patients p -> !request.patients().isEmpty() ? Membership.MEMBERS
          // a Patient is in its own compartment: no need to look
          : type.equals("Patient") ? Membership.ALL : Membership.ANY_COMPARTMENT;
      case ExportLevel.Group g -> Membership.MEMBERS;
    };
    // _typeFilter: the searches of this type, OR'ed, judged on the versions at transactionTime
    List<SearchQuery> anyOf = new ArrayList<>();
    for (String query : request.typeFilters().getOrDefault(type, List.of())) {
      anyOf.add(search.parse(type, query));
    }
    var spec = new ExportScan.ResourceScan(job.id(), type, part.pkFrom(), part.pkTo(), job.transactionTime(),
        request.since(), membership, anyOf);
    ElementsFilter filter = request.elements().isEmpty() ? null : new ElementsFilter(fhir, request.elements());
    Deidentifier deid = deidentifier(job, request);
    ExportCompartments compartments = membership == Membership.ALL ? null : compartments(job, request);
    try (NdjsonWriter out = new NdjsonWriter(store, tables.files(), part, job.container(), FileSeries.output(type),
        settings);
        NdjsonWriter errors = errorWriter(job, part)) {
      try {
        // replaced after transactionTime: the compartment table holds a later version's
        // membership, so such a version is judged from its own content
        ExportScan.VersionTest inScope = compartments == null ? (t, version) -> true : compartments::holds;
        session.scan(spec, inScope, (b, off, len) -> {
          try {
            if (deid != null) {
              // parsed and re-serialized only here: without a configuration the bytes are copied as stored
              byte[] clean = deid.apply(type, b, off, len, errors);
              if (clean == null) {
                return;
              }
              b = clean;
              off = 0;
              len = clean.length;
            }
            if (filter == null) {
              out.write(b, off, len);
            } else {
              byte[] subset;
              try {
                subset = filter.apply(type, b, off, len);
              } catch (IOException | RuntimeException e) {
                errors.write(OperationOutcomeJson.of(Issue.error(Issue.Code.PROCESSING,
                    "A " + type + " could not be subsetted for _elements and was left out: " + e.getMessage())
                    .withMessage(MessageCode.EXPORT_ELEMENTS_RESOURCE_LEFT_OUT)));
                return;
              }
              out.write(subset);
            }
          } catch (SQLException e) {
            throw new IOException(e);
          }
        });
      } catch (Exception e) {
        out.abandon();
        errors.abandon();
        throw e;
      }
      return new Written(out.resources(), out.bytes(), out.files() + errors.files());
    }
  }

  /** The compartments a Patient or Group level export reads. */
  private ExportCompartments compartments(ExportJobRow job, ExportRequest request) {
    return switch (request.level()) {
      case ExportLevel.System s -> throw new IllegalStateException("a system-level export reads no compartments");
      case ExportLevel.Patients p -> request.patients().isEmpty() ? ExportCompartments.anyPatient(fhir, compartment)
          : ExportCompartments.members(fhir, compartment, () -> Set.copyOf(request.patients()));
      case ExportLevel.Group g -> ExportCompartments.members(fhir, compartment, () -> tables.parts().members(job.id()));
    };
  }

  private Deidentifier deidentifier(ExportJobRow job, ExportRequest request) throws SQLException {
    return request.anonymization() == null ? null
        : new Deidentifier(anonymizations.of(job.id(), request.anonymization()), compartment, job.container(), metrics);
  }

  private Written deletions(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    Deidentifier deid = deidentifier(job, request);
    boolean system = request.level() instanceof ExportLevel.System;
    ExportCompartments compartments = system ? null : compartments(job, request);
    Set<String> wanted = request.types().isEmpty()
        ? new ExportTypes(fhir, compartment).forLevel(request.level()) : Set.copyOf(request.types());
    try (NdjsonWriter out = new NdjsonWriter(store, tables.files(), part, job.container(), FileSeries.deleted(),
        settings)) {
      DeletionBundles bundles = new DeletionBundles(out);
      try {
        session.deletions(request.since(), job.transactionTime(), wanted, !system, (type, id, previous) -> {
          // judged by the version before the deletion, as resources replaced after transactionTime are
          if (!system) {
            try {
              if (previous == null || !compartments.holds(type, previous)) {
                return;
              }
            } catch (SQLException e) {
              throw new IOException(e);
            }
          }
          // a de-identified export names deleted resources by pseudonym, never by their ids
          bundles.add(type, deid == null ? id : deid.pseudonym(id));
        });
        bundles.flush();
      } catch (Exception e) {
        out.abandon();
        throw e;
      }
      return new Written(out.resources(), out.bytes(), out.files());
    }
  }

  private Written notes(ExportJobRow job, ExportRequest request, ExportPartRow part) throws Exception {
    try (NdjsonWriter errors = errorWriter(job, part)) {
      for (Issue note : notes.of(job, request)) {
        errors.write(OperationOutcomeJson.of(note));
      }
      return new Written(0, 0, errors.files());
    }
  }

  private NdjsonWriter errorWriter(ExportJobRow job, ExportPartRow part) {
    return new NdjsonWriter(store, tables.files(), part, job.container(), FileSeries.errors(), settings);
  }

  private void discard(ExportJobRow job, ExportPartRow part) {
    try {
      for (ExportFileRow f : tables.files().discardAttempt(part)) {
        store.delete(job.container(), job.id(), f.name());
      }
    } catch (SQLException | IOException | RuntimeException e) {
      // the job's files are removed with the job when it is cancelled or expires
      log.warn("Export {} part {}: could not remove its files: {}", job.id(), part.partNo(), e.toString());
    }
  }

  private void release(ExportPartRow part) {
    try {
      tables.parts().release(part, owner);
    } catch (SQLException e) {
      // the lease lapses on its own and another worker takes the part
      log.warn("Export {} part {}: could not release: {}", part.jobId(), part.partNo(), e.toString());
    }
  }

  private void retryLater(ExportPartRow part, java.time.Duration wait) {
    try {
      tables.parts().retryLater(part, owner, wait);
    } catch (SQLException e) {
      // the lease lapses on its own and another worker takes the part
      log.warn("Export {} part {}: could not give it back: {}", part.jobId(), part.partNo(), e.toString());
    }
  }
}

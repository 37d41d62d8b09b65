package dev.sluice.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ExportScan;
import dev.sluice.store.ExportScan.Membership;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exports one claimed part: streams its rows from PostgreSQL into NDJSON files while a
 * lease keeper renews the lease and watches for cancellation. A part that loses its lease
 * (cancelled, or taken over after a stall) stops, and removes what it wrote.
 */
public final class PartWorker {
  private static final Logger log = LoggerFactory.getLogger(PartWorker.class);
  private static final JsonFactory JSON = new JsonFactory();
  /** DELETE entries per Bundle line of the deleted files. */
  static final int DELETIONS_PER_BUNDLE = 1_000;

  private final ExportSettings settings;
  private final ExportJobTable jobs;
  private final ExportPartTable parts;
  private final ExportFileTable files;
  private final ExportScan scan;
  private final OutputStore store;
  private final FhirModel fhir;
  private final PatientCompartment compartment;
  private final ExecutorService leaseKeepers;
  private final String owner;
  private final SearchParser search;
  private final AnonymizationConfigs anonymizations;
  private final JobNotes notes;

  public PartWorker(ExportSettings settings, ExportJobTable jobs, ExportPartTable parts, ExportFileTable files,
      ExportScan scan, OutputStore store, FhirModel fhir, PatientCompartment compartment,
      ExecutorService leaseKeepers, String owner, SearchParser search, AnonymizationConfigs anonymizations,
      JobNotes notes) {
    this.settings = settings;
    this.jobs = jobs;
    this.parts = parts;
    this.files = files;
    this.scan = scan;
    this.store = store;
    this.fhir = fhir;
    this.compartment = compartment;
    this.leaseKeepers = leaseKeepers;
    this.owner = owner;
    this.search = search;
    this.anonymizations = anonymizations;
    this.notes = notes;
  }

  /** What a finished attempt wrote. */
  private record Written(long resources, long bytes) {}

  void run(ExportPartRow part, AtomicBoolean stopping) {
    ExportJobRow job;
    try {
      Optional<ExportJobRow> found = jobs.find(part.jobId());
      if (found.isEmpty() || !found.get().status().equals(ExportJobRow.RUNNING)) {
        return;
      }
      job = found.get();
      for (ExportFileRow old : files.discardEarlierAttempts(part)) {
        store.delete(job.container(), job.id(), old.name());
      }
    } catch (SQLException | IOException e) {
      log.warn("Export {} part {}: could not start ({}); it will be retried", part.jobId(), part.partNo(), e.toString());
      release(part);
      return;
    }
    long started = System.nanoTime();
    AtomicBoolean lost = new AtomicBoolean();
    try (ExportScan.Session session = scan.open()) {
      Keeper keeper = new Keeper(new ReentrantLock(), new AtomicBoolean());
      Future<?> keeping = leaseKeepers.submit(() -> keepLease(part, session, lost, stopping, keeper));
      Written written;
      try {
        written = export(job, part, session);
      } finally {
        keeper.stop(keeping);
      }
      if (lost.get() || !parts.finish(part, owner, written.resources(), written.bytes(), settings.retention())) {
        discard(job, part);
        return;
      }
      log.debug("Export {} part {} ({} {}..{}): {} resources, {} bytes in {} ms", job.id(), part.partNo(),
          part.resType(), part.pkFrom(), part.pkTo(), written.resources(), written.bytes(),
          (System.nanoTime() - started) / 1_000_000);
    } catch (Exception e) {
      if (lost.get() || stopping.get()) {
        // cancelled, taken over, or shutting down: the scan was stopped on purpose
        discard(job, part);
        if (stopping.get() && !lost.get()) {
          release(part);
        }
        return;
      }
      discard(job, part);
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (e instanceof Deidentifier.Failed failed) {
        // the same configuration fails the same resource again: no retry
        log.warn("Export {} part {}: de-identification failed; failing the job", job.id(), part.partNo());
        failNow(job, 400, failed.getMessage());
      } else if (part.attempt() >= settings.maxAttempts()) {
        log.error("Export {} part {} failed {} times; failing the job", job.id(), part.partNo(), part.attempt(), e);
        fail(job, "Exporting " + (part.resType() == null ? part.kind() : part.resType())
            + " failed " + part.attempt() + " times; the last error was: " + e.getMessage());
      } else {
        log.warn("Export {} part {} attempt {} failed; it will be retried", job.id(), part.partNo(), part.attempt(), e);
        release(part);
      }
    }
  }

  private Written export(ExportJobRow job, ExportPartRow part, ExportScan.Session session) throws Exception {
    ExportRequest request = ExportRequest.fromJson(job.requestJson());
    return switch (part.kind()) {
      case ExportPartRow.RESOURCES -> resources(job, request, part, session);
      case ExportPartRow.DELETED -> deletions(job, request, part, session);
      case ExportPartRow.NOTES -> notes(job, request, part);
      default -> throw new IllegalStateException("unknown part kind " + part.kind());
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
    try (NdjsonWriter out = new NdjsonWriter(store, files, part, job.container(), type, ExportFileRow.OUTPUT, type, settings);
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
                errors.write(outcome("error", "processing",
                    "A " + type + " could not be subsetted for _elements and was left out: " + e.getMessage()));
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
      return new Written(out.resources(), out.bytes());
    }
  }

  /** The compartments a Patient or Group level export reads. */
  private ExportCompartments compartments(ExportJobRow job, ExportRequest request) {
    return switch (request.level()) {
      case ExportLevel.System s -> throw new IllegalStateException("a system-level export reads no compartments");
      case ExportLevel.Patients p -> request.patients().isEmpty() ? ExportCompartments.anyPatient(fhir, compartment)
          : ExportCompartments.members(fhir, compartment, () -> Set.copyOf(request.patients()));
      case ExportLevel.Group g -> ExportCompartments.members(fhir, compartment, () -> parts.members(job.id()));
    };
  }

  private Deidentifier deidentifier(ExportJobRow job, ExportRequest request) throws SQLException {
    return request.anonymization() == null ? null
        : new Deidentifier(anonymizations.of(job.id(), request.anonymization()), compartment, job.container());
  }

  private Written deletions(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    Deidentifier deid = deidentifier(job, request);
    boolean system = request.level() instanceof ExportLevel.System;
    ExportCompartments compartments = system ? null : compartments(job, request);
    Set<String> wanted = request.types().isEmpty()
        ? new ExportTypes(fhir, compartment).forLevel(request.level()) : Set.copyOf(request.types());
    try (NdjsonWriter out = new NdjsonWriter(store, files, part, job.container(), "deleted-Bundle",
        ExportFileRow.DELETED, "Bundle", settings)) {
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
      return new Written(out.resources(), out.bytes());
    }
  }

  private Written notes(ExportJobRow job, ExportRequest request, ExportPartRow part) throws Exception {
    try (NdjsonWriter errors = errorWriter(job, part)) {
      for (JobNotes.Note note : notes.of(job, request)) {
        errors.write(outcome("warning", note.code(), note.diagnostics()));
      }
      return new Written(0, 0);
    }
  }

  private NdjsonWriter errorWriter(ExportJobRow job, ExportPartRow part) {
    return new NdjsonWriter(store, files, part, job.container(), "error-OperationOutcome", ExportFileRow.ERROR,
        "OperationOutcome", settings);
  }

  static byte[] outcome(String severity, String code, String diagnostics) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(buffer)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "OperationOutcome");
      g.writeArrayFieldStart("issue");
      g.writeStartObject();
      g.writeStringField("severity", severity);
      g.writeStringField("code", code);
      g.writeStringField("diagnostics", diagnostics);
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    }
    return buffer.toByteArray();
  }

  /** Collects DELETE entries into transaction Bundles of at most {@link #DELETIONS_PER_BUNDLE}. */
  private static final class DeletionBundles {
    private final NdjsonWriter out;
    private ByteArrayOutputStream buffer;
    private JsonGenerator gen;
    private int entries;

    DeletionBundles(NdjsonWriter out) {
      this.out = out;
    }

    void add(String type, String id) throws IOException {
      if (gen == null) {
        buffer = new ByteArrayOutputStream(64 * 1024);
        gen = JSON.createGenerator(buffer);
        gen.writeStartObject();
        gen.writeStringField("resourceType", "Bundle");
        gen.writeStringField("type", "transaction");
        gen.writeArrayFieldStart("entry");
      }
      gen.writeStartObject();
      gen.writeObjectFieldStart("request");
      gen.writeStringField("method", "DELETE");
      gen.writeStringField("url", type + "/" + id);
      gen.writeEndObject();
      gen.writeEndObject();
      if (++entries == DELETIONS_PER_BUNDLE) {
        flush();
      }
    }

    void flush() throws IOException {
      if (gen == null) {
        return;
      }
      gen.writeEndArray();
      gen.writeEndObject();
      gen.close();
      try {
        out.write(buffer.toByteArray());
      } catch (SQLException e) {
        throw new IOException(e);
      }
      gen = null;
      entries = 0;
    }
  }

  /**
   * Stops a lease keeper. It is interrupted only while it sleeps, never during a renewal: an
   * interrupt in the middle of JDBC I/O closes the pooled connection's socket.
   */
  private record Keeper(Lock renewing, AtomicBoolean ended) {
    void stop(Future<?> task) {
      renewing.lock();
      try {
        ended.set(true);
        task.cancel(true);
      } finally {
        renewing.unlock();
      }
    }
  }

  /** Renews the lease every {@code renewEvery}; on loss (or shutdown) stops the scan. */
  private void keepLease(ExportPartRow part, ExportScan.Session session, AtomicBoolean lost, AtomicBoolean stopping,
      Keeper keeper) {
    while (true) {
      try {
        Thread.sleep(settings.renewEvery().toMillis());
      } catch (InterruptedException e) {
        return; // the part ended
      }
      keeper.renewing().lock();
      try {
        if (keeper.ended().get()) {
          return;
        }
        if (stopping.get()) {
          session.cancel();
          return;
        }
        if (!parts.renew(part, owner, settings.lease())) {
          log.info("Export {} part {}: cancelled or taken over; stopping", part.jobId(), part.partNo());
          lost.set(true);
          session.cancel();
          return;
        }
      } catch (SQLException e) {
        // retried at the next tick; the lease outlives several ticks
        log.warn("Export {} part {}: lease renewal failed: {}", part.jobId(), part.partNo(), e.toString());
      } finally {
        keeper.renewing().unlock();
      }
    }
  }

  private void discard(ExportJobRow job, ExportPartRow part) {
    try {
      for (ExportFileRow f : files.discardAttempt(part)) {
        store.delete(job.container(), job.id(), f.name());
      }
    } catch (SQLException | IOException | RuntimeException e) {
      // the job's files are removed with the job when it is cancelled or expires
      log.warn("Export {} part {}: could not remove its files: {}", job.id(), part.partNo(), e.toString());
    }
  }

  private void release(ExportPartRow part) {
    try {
      parts.release(part, owner);
    } catch (SQLException e) {
      // the lease lapses on its own and another worker takes the part
      log.warn("Export {} part {}: could not release: {}", part.jobId(), part.partNo(), e.toString());
    }
  }

  private void fail(ExportJobRow job, String message) {
    failNow(job, 500, message);
  }

  private void failNow(ExportJobRow job, int status, String message) {
    try {
      jobs.fail(job.id(), status, message, settings.retention());
    } catch (SQLException e) {
      log.error("Export {}: could not record its failure", job.id(), e);
    }
  }
}

package dev.sluice.export;

import dev.sluice.fhir.FhirException;
import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ResourceStore;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the HTTP layer asks of exports: kick-off, status, manifest, cancel. */
public final class ExportJobs {
  private static final Logger log = LoggerFactory.getLogger(ExportJobs.class);

  private final ExportSettings settings;
  private final ExportJobTable jobs;
  private final ExportPartTable parts;
  private final ExportFileTable files;
  private final OutputStore store;
  private final ResourceStore resources;
  private final Runnable wake;
  private final AnonymizationConfigs anonymizations;

  /**
   * @param wake called when a job is queued, to wake this process's idle workers
   */
  public ExportJobs(ExportSettings settings, ExportJobTable jobs, ExportPartTable parts, ExportFileTable files,
      OutputStore store, ResourceStore resources, AnonymizationConfigs anonymizations, Runnable wake) {
    this.settings = settings;
    this.jobs = jobs;
    this.parts = parts;
    this.files = files;
    this.store = store;
    this.resources = resources;
    this.wake = wake;
    this.anonymizations = anonymizations;
  }

  public ExportSettings settings() {
    return settings;
  }

  public OutputStore store() {
    return store;
  }

  /**
   * Queues an export, or returns the queued or running job of the same client for the same
   * request (never another client's).
   *
   * @param client who asks (see docs/export.md, "Clients")
   * @throws FhirException 404 when the Group or a {@code patient} does not exist; 400 or 412
   *     when the anonymization configuration is missing, invalid or not of the ETag asked for
   */
  public ExportJobRow kickOff(ExportRequest asked, String client) {
    ExportRequest request = asked;
    byte[] anonymizationConfig = null;
    if (asked.anonymization() != null) {
      // validated now, so a bad configuration is a 400 here and not a failed job later
      AnonymizationConfigs.Loaded loaded = anonymizations.load(asked.anonymization());
      request = asked.with(loaded.anonymization());
      anonymizationConfig = loaded.bytes();
    }
    if (request.level() instanceof ExportLevel.Group g) {
      requireExisting("Group", g.groupId(), 404, "group");
    }
    for (String patient : request.patients()) {
      requireExisting("Patient", patient, 400, "patient");
    }
    String key = request.key();
    try {
      Optional<ExportJobRow> running = jobs.findActive(client, key);
      if (running.isPresent()) {
        log.info("Export {}: the same request again from the same client; returning the running job", running.get().id());
        return running.get();
      }
      ExportJobTable.Snapshot snapshot = jobs.snapshot();
      UUID id = UUID.randomUUID();
      var at = request.until() != null && request.until().isBefore(snapshot.transactionTime())
          ? request.until() : snapshot.transactionTime();
      String container = request.container() != null ? request.container()
          : ExportNames.defaultContainer(snapshot.transactionTime(), id);
      ExportJobRow job = new ExportJobRow(id, client, key, request.requestUrl(), request.toJson(), ExportJobRow.QUEUED,
          at, snapshot.inProgressXids(), container, null, null, null, null, null);
      if (!jobs.insert(job, anonymizationConfig)) {
        // an identical kick-off of the same client won the race
        return jobs.findActive(client, key).orElseThrow(() -> FhirException.conflict(
            "An identical export of yours started and ended at this moment; please send the request again"));
      }
      log.info("Export {} queued: {} level, {} types, since {}{}", id, request.level().code(),
          request.types().isEmpty() ? "all" : request.types().size(), request.since(),
          request.anonymization() == null ? "" : ", de-identified with " + request.anonymization().config()
              + " (sha256 " + request.anonymization().sha256() + ")");
      wake.run();
      return job;
    } catch (SQLException e) {
      throw FhirException.internal("The export could not be queued: " + e.getMessage(), e);
    }
  }

  private void requireExisting(String type, String id, int status, String parameter) {
    var found = resources.read(type, id);
    if (found.isEmpty() || found.get().deleted()) {
      String text = type + "/" + id + " does not exist";
      throw status == 404 ? FhirException.notFound(text) : FhirException.badRequest(text, parameter);
    }
  }

  public Optional<ExportJobRow> find(UUID id) {
    try {
      return jobs.find(id);
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export job failed: " + e.getMessage(), e);
    }
  }

  public ExportPartTable.Progress progress(UUID id) {
    try {
      return parts.progress(id);
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export's progress failed: " + e.getMessage(), e);
    }
  }

  /** The manifest of a completed job. */
  public byte[] manifest(ExportJobRow job, String fhirBase) {
    try {
      List<ExportFileRow> done = files.done(job.id());
      return Manifest.of(job, ExportRequest.fromJson(job.requestJson()), done, store, fhirBase);
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export's files failed: " + e.getMessage(), e);
    }
  }

  /**
   * Cancels a job, or tells the server a finished one's files are no longer needed: the job
   * is marked cancelled (workers stop at their next lease tick) and its files are removed.
   *
   * @return false when there is no such job
   */
  public boolean cancel(UUID id) {
    try {
      Optional<ExportJobRow> job = jobs.find(id);
      if (job.isEmpty() || job.get().status().equals(ExportJobRow.CANCELLED)) {
        return false;
      }
      jobs.cancel(id);
      for (ExportFileRow f : files.all(id)) {
        store.delete(job.get().container(), id, f.name());
      }
      log.info("Export {} cancelled ({} before)", id, job.get().status());
      return true;
    } catch (SQLException | IOException e) {
      throw FhirException.internal("Cancelling the export failed: " + e.getMessage(), e);
    }
  }
}

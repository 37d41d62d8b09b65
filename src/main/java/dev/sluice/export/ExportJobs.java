package dev.sluice.export;

import dev.sluice.auth.Caller;
import dev.sluice.auth.Interaction;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobStatus;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ResourceStore;
import java.io.IOException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
  private final ExportTypes types;
  private static final Duration QUEUED_RETRY = Duration.ofSeconds(2);

  /**
   * @param wake called when a job is queued, to wake this process's idle workers
   */
  public ExportJobs(ExportSettings settings, ExportTables tables, OutputStore store, ResourceStore resources,
      AnonymizationConfigs anonymizations, ExportTypes types, Runnable wake) {
    this.types = types;
    this.settings = settings;
    this.jobs = tables.jobs();
    this.parts = tables.parts();
    this.files = tables.files();
    this.store = store;
    this.resources = resources;
    this.wake = wake;
    this.anonymizations = anonymizations;
  }

  /** Whether kick-off requires {@code Accept} and {@code Prefer: respond-async}. */
  public boolean requireAsyncHeaders() {
    return settings.requireAsyncHeaders();
  }

  /**
   * Queues an export, or returns the queued or running job of the same client for the same
   * request (never another client's).
   *
   * @return the job's id
   *
   * @param caller who asks: the job is theirs, and holds only types their scopes allow
   * @throws FhirException 404 when the Group does not exist, 400 when a {@code patient} does not
   *     (under {@code Prefer: handling=lenient} it is reported in the error files instead); 400 or 412
   *     when the anonymization configuration is missing, invalid or not of the ETag asked for;
   *     403 when the scopes do not allow a type asked for, or the level
   */
  public UUID kickOff(ExportRequest unscoped, Caller caller) {
    String client = caller.clientId();
    ExportRequest asked = scoped(unscoped, caller);
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
    List<Ignored> missing = new ArrayList<>();
    for (String patient : request.patients()) {
      if (!request.preferences().lenient()) {
        requireExisting("Patient", patient, 400, "patient");
      } else if (!exists("Patient", patient)) {
        // kept in the list, so the export stays narrowed to the patients asked for (its compartment is empty at T)
        missing.add(Ignored.value("patient", "Patient/" + patient, "Patient/" + patient
            + " does not exist, so no resource of it was exported"));
      }
    }
    request = request.ignoring(missing);
    String key = request.key();
    try {
      Optional<ExportJobRow> running = jobs.findActive(client, key);
      if (running.isPresent()) {
        log.info("Export {}: the same request again from the same client; returning the running job", running.get().id());
        return running.get().id();
      }
      ExportJobTable.Snapshot snapshot = jobs.snapshot();
      UUID id = UUID.randomUUID();
      var at = request.until() != null && request.until().isBefore(snapshot.transactionTime())
          ? request.until() : snapshot.transactionTime();
      String container = request.container() != null ? request.container()
          : ExportNames.defaultContainer(snapshot.transactionTime(), id);
      ExportJobRow job = ExportJobRow.queued(id, client, key, request.requestUrl(), request.toJson(), at,
          snapshot.inProgressXids(), container);
      if (!jobs.insert(job, anonymizationConfig)) {
        // an identical kick-off of the same client won the race
        return jobs.findActive(client, key).map(ExportJobRow::id).orElseThrow(() -> FhirException.conflict(
            "An identical export of yours started and ended at this moment; please send the request again"));
      }
      log.info("Export {} queued: {} level, {} types, since {}{}", id, request.level().code(),
          request.types().isEmpty() ? "all" : request.types().size(), request.since(),
          request.anonymization() == null ? "" : ", de-identified with " + request.anonymization().config()
              + " (sha256 " + request.anonymization().sha256() + ")");
      wake.run();
      return id;
    } catch (SQLException e) {
      throw FhirException.internal("The export could not be queued: " + e.getMessage(), e);
    }
  }

  /**
   * The request limited to what the caller's scopes allow: Patient and Group level need the
   * Patient (and Group) type whole; an explicit {@code _type} beyond the scopes is refused;
   * without one, the job holds the types of its level that the scopes allow, recorded in the
   * job's request.
   */
  private ExportRequest scoped(ExportRequest request, Caller caller) {
    switch (request.level()) {
      case ExportLevel.System s -> { }
      case ExportLevel.Patients p -> caller.requireWhole(Interaction.EXPORT, "Patient");
      case ExportLevel.Group g -> {
        caller.requireWhole(Interaction.EXPORT, "Patient");
        caller.requireWhole(Interaction.EXPORT, "Group");
      }
    }
    if (!request.types().isEmpty()) {
      List<String> refused = request.types().stream().filter(t -> !caller.mayWhole(Interaction.EXPORT, t)).toList();
      if (!refused.isEmpty()) {
        throw Caller.forbidden("_type asks for " + String.join(", ", refused) + ", which the token's scopes ("
            + caller.scopes().text() + ") do not allow to export (search-constrained scopes never do)");
      }
      return request;
    }
    Set<String> level = types.forLevel(request.level());
    List<String> allowed = level.stream().filter(t -> caller.mayWhole(Interaction.EXPORT, t)).sorted().toList();
    if (allowed.isEmpty()) {
      throw Caller.forbidden("The token's scopes (" + caller.scopes().text() + ") allow no type of this export");
    }
    return allowed.size() == level.size() ? request : request.withTypes(allowed);
  }

  private void requireExisting(String type, String id, int status, String parameter) {
    if (!exists(type, id)) {
      String text = type + "/" + id + " does not exist";
      throw status == 404 ? FhirException.notFound(text) : FhirException.badRequest(text, parameter);
    }
  }

  private boolean exists(String type, String id) {
    var found = resources.read(type, id);
    return found.isPresent() && !found.get().deleted();
  }

  /**
   * The status of a job a client may see; empty when there is none (never started,
   * cancelled, or expired).
   *
   * @param fhirBase the base of the manifest's download URLs
   */
  public Optional<Polled> status(UUID id, Caller caller, String fhirBase) {
    try {
      Optional<ExportJobRow> found = find(id, caller);
      if (found.isEmpty()) {
        return Optional.empty();
      }
      ExportJobRow job = found.get();
      Preferences preferences = preferences(job);
      if (preferences.partialManifests()) {
        return page(job, 1, fhirBase).map(state -> new Polled(state, preferences));
      }
      return state(job, fhirBase).map(state -> new Polled(state, preferences));
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export job failed: " + e.getMessage(), e);
    }
  }

  /**
   * Page {@code page} (from 1) of the manifest of a job whose client allowed partial manifests;
   * empty when there is no such job or page.
   */
  public Optional<Polled> page(UUID id, int page, Caller caller, String fhirBase) {
    try {
      Optional<ExportJobRow> found = find(id, caller).filter(j -> preferences(j).partialManifests());
      if (found.isEmpty()) {
        return Optional.empty();
      }
      Preferences preferences = preferences(found.get());
      return page(found.get(), page, fhirBase).map(state -> new Polled(state, preferences));
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export job failed: " + e.getMessage(), e);
    }
  }

  /**
   * A page of the manifest: the files done and in no page yet are first cut into a new page
   * (so a completed job's last page holds the rest); a completed job's pages answer as
   * completed, a running job's as partial.
   */
  private Optional<ExportStatus> page(ExportJobRow job, int page, String fhirBase) throws SQLException {
    if (job.status() != ExportJobStatus.RUNNING && job.status() != ExportJobStatus.COMPLETED) {
      return page == 1 ? state(job, fhirBase) : Optional.empty();
    }
    int last = files.cutPage(job.id());
    if (page > Math.max(1, last)) {
      return Optional.empty();
    }
    boolean completed = job.status() == ExportJobStatus.COMPLETED;
    Optional<ExportStatus> progress = completed ? Optional.empty() : state(job, fhirBase);
    if (last == 0 && !completed) {
      return progress;
    }
    ExportRequest request = ExportRequest.fromJson(job.requestJson());
    String next = page < last ? fhirBase + "/_operations/export/" + job.id() + "/manifest/" + (page + 1) : null;
    Instant expires = completed ? job.expiresAt() : Instant.now().plus(settings.retention());
    byte[] manifest = Manifest.of(job, request, files.page(job.id(), page), store, fhirBase, expires, next);
    if (completed) {
      return Optional.of(new ExportStatus.Completed(manifest, job.expiresAt()));
    }
    return progress.map(p -> p instanceof ExportStatus.Running r ? new ExportStatus.Partial(r, manifest) : p);
  }

  /** The state of a job, with how its client asked to be answered. */
  public record Polled(ExportStatus status, Preferences preferences) {}

  private static Preferences preferences(ExportJobRow job) {
    try {
      return ExportRequest.fromJson(job.requestJson()).preferences();
    } catch (RuntimeException e) {
      // a request this version cannot read (its job fails at planning): answered the default way
      return Preferences.defaults();
    }
  }

  private Optional<ExportStatus> state(ExportJobRow job, String fhirBase) throws SQLException {
    UUID id = job.id();
    return switch (job.status()) {
      case QUEUED -> Optional.of(new ExportStatus.Queued(QUEUED_RETRY));
      case RUNNING -> {
        ExportPartTable.Progress p = parts.progress(id);
        long remaining = p.parts() - p.done();
        // about one poll per round of parts, never more often than every second nor rarer than every 10
        Duration retry = Duration.ofSeconds(Math.min(10, 1 + remaining / Math.max(1, 4L * settings.workers())));
        yield Optional.of(new ExportStatus.Running(p.done(), p.parts(), p.resources(), retry));
      }
      case COMPLETED -> Optional.of(new ExportStatus.Completed(
          Manifest.of(job, ExportRequest.fromJson(job.requestJson()), files.done(id), store, fhirBase),
          job.expiresAt()));
      case FAILED -> {
        int status = job.errorStatus() == null ? 500 : job.errorStatus();
        MessageCode message = MessageCode.ofCode(job.errorCode()).orElse(MessageCode.EXPORT_FAILED);
        Issue.Code code = message == MessageCode.EXPORT_STORE_UNREACHABLE ? Issue.Code.NO_STORE
            : status < 500 ? Issue.Code.INVALID : Issue.Code.EXCEPTION;
        yield Optional.of(new ExportStatus.Failed(status,
            Issue.error(code, "The export failed: " + job.errorText()).withMessage(message)));
      }
      case CANCELLED -> Optional.empty();
    };
  }

  /**
   * A page of the export jobs the caller owns, newest first.
   *
   * @param cursor where the page starts (from the previous page's {@code next}); null for the first page
   * @throws FhirException 400 when the cursor is not one this server made
   */
  public ExportJobList list(String cursor, int count, Caller caller) {
    ExportJobList.Cursor after = null;
    if (cursor != null) {
      after = ExportJobList.Cursor.decode(cursor).orElseThrow(() -> FhirException.badRequest(
          "'" + cursor + "' is not a cursor of the list of exports; follow the list's next link", "_cursor"));
    }
    try {
      List<ExportJobTable.Listed> rows = jobs.list(after == null ? null : after.created(),
          after == null ? null : after.id(), caller.ownerFilter().orElse(null), count + 1);
      List<ExportJobList.Job> page = new ArrayList<>();
      for (ExportJobTable.Listed l : rows.subList(0, Math.min(count, rows.size()))) {
        ExportJobRow j = l.job();
        page.add(new ExportJobList.Job(j.id(), j.status().sqlName(), level(j),
            j.requestUrl(), l.partsDone(), l.parts(), l.resources(), j.createdAt(), j.expiresAt(),
            j.status() == ExportJobStatus.FAILED ? j.errorText() : null));
      }
      Optional<String> next = rows.size() > count
          ? Optional.of(new ExportJobList.Cursor(rows.get(count - 1).job().createdAt(), rows.get(count - 1).job().id())
              .encode())
          : Optional.empty();
      return new ExportJobList(page, next);
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export jobs failed: " + e.getMessage(), e);
    }
  }

  private static String level(ExportJobRow job) {
    try {
      return ExportRequest.fromJson(job.requestJson()).level().code();
    } catch (RuntimeException e) {
      // a request this version cannot read (its job fails at planning): the list still shows it
      return "unknown";
    }
  }

  /**
   * The container of a job's file that may be downloaded: any file of a completed job, or one
   * in a page of a running job's partial manifest; empty otherwise.
   */
  public Optional<String> downloadableContainer(UUID id, String name, Caller caller) {
    try {
      Optional<ExportJobRow> job = find(id, caller);
      if (job.isPresent() && job.get().status() == ExportJobStatus.RUNNING) {
        var m = java.util.regex.Pattern.compile("(.+)-(\\d{1,9})\\.ndjson").matcher(name);
        return m.matches() && files.paged(id, m.group(1), Integer.parseInt(m.group(2)))
            ? Optional.of(job.get().container()) : Optional.empty();
      }
      return job.filter(j -> j.status() == ExportJobStatus.COMPLETED).map(ExportJobRow::container);
    } catch (SQLException e) {
      throw FhirException.internal("Reading the export job failed: " + e.getMessage(), e);
    }
  }

  /** A job the caller started (another client's job is as absent as one never started). */
  private Optional<ExportJobRow> find(UUID id, Caller caller) throws SQLException {
    return jobs.find(id).filter(j -> caller.owns(j.client()));
  }

  /**
   * Cancels a job, or tells the server a finished one's files are no longer needed: the job
   * is marked cancelled (workers stop at their next lease tick) and its files are removed.
   *
   * @return false when there is no such job
   */
  public boolean cancel(UUID id, Caller caller) {
    try {
      Optional<ExportJobRow> job = find(id, caller);
      if (job.isEmpty() || job.get().status() == ExportJobStatus.CANCELLED) {
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

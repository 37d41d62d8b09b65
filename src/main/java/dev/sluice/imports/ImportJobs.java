package dev.sluice.imports;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.auth.Caller;
import dev.sluice.auth.Interaction;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.store.ImportJobTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Kick-off, status, cancel and error files of {@code $import} jobs. */
public final class ImportJobs {
  private static final Logger log = LoggerFactory.getLogger(ImportJobs.class);
  private static final JsonFactory JSON = new JsonFactory();

  private final ImportJobTable jobs;
  private final ImportSource source;
  private final FhirModel fhir;
  private final ImportSettings settings;
  private final Runnable wake;

  /** @param wake called after a kick-off, so that idle workers start at once */
  public ImportJobs(ImportJobTable jobs, ImportSource source, FhirModel fhir, ImportSettings settings, Runnable wake) {
    this.jobs = jobs;
    this.source = source;
    this.fhir = fhir;
    this.settings = settings;
    this.wake = wake;
  }

  public boolean requireAsyncHeaders() {
    return settings.requireAsyncHeaders();
  }

  /**
   * Checks the request (inputs in the store, the caller's rights, InitialLoad into empty types)
   * and starts the job.
   *
   * @throws FhirException 400 for an input outside the store, 403, 409 for InitialLoad into a type with data,
   *     412 for an S3 input whose ETag is not the request's, 503 when S3 does not answer
   */
  public UUID kickOff(ImportRequest request, Caller caller, String requestUrl) {
    Set<String> types = new LinkedHashSet<>();
    boolean untyped = false;
    for (ImportRequest.Input input : request.inputs()) {
      if (input.type() == null) {
        untyped = true;
      } else {
        types.add(input.type());
      }
    }
    Set<String> writes = untyped ? fhir.resourceTypes() : types;
    for (String type : writes) {
      caller.requireWhole(Interaction.CREATE, type);
      caller.requireWhole(Interaction.UPDATE, type);
      caller.requireWhole(Interaction.DELETE, type);
    }
    // after the rights: the answers say whether objects exist in the store
    List<ImportJobTable.NewPart> parts = new ArrayList<>();
    for (ImportRequest.Input input : request.inputs()) {
      parts.add(new ImportJobTable.NewPart(input.url(), source.locate(input.url(), input.etag()), input.type()));
    }
    UUID id = UUID.randomUUID();
    try {
      if (request.mode() == ImportMode.INITIAL) {
        if (untyped) {
          throw FhirException.badRequest("InitialLoad needs each input's type, so that it can check the type is empty",
              "input.type");
        }
        for (String type : types) {
          if (jobs.hasResources(type)) {
            throw FhirException.conflict("InitialLoad imports into empty types only, and " + type
                + " holds resources (or their history); use IncrementalLoad");
          }
        }
      }
      jobs.insert(id, caller.clientId(), request.mode().fhirName(), requestUrl, parts,
          request.mode() == ImportMode.INITIAL);
    } catch (SQLException e) {
      throw FhirException.internal("Starting the import failed: " + e.getMessage(), e);
    }
    log.info("Import {} accepted: {} with {} inputs", id, request.mode().fhirName(), parts.size());
    wake.run();
    return id;
  }

  /** The job's status, when it exists, is this caller's, was not cancelled and has not expired. */
  public Optional<ImportStatus> status(UUID id, Caller caller, String base) {
    try {
      Optional<ImportJobTable.JobRow> job = jobs.find(id).filter(j -> caller.owns(j.client()));
      if (job.isEmpty() || job.get().status().equals("cancelled") || expired(job.get())) {
        return Optional.empty();
      }
      List<ImportJobTable.PartRow> parts = jobs.parts(id);
      return Optional.of(switch (job.get().status()) {
        case "completed" -> new ImportStatus.Completed(result(job.get(), parts, jobs.counts(id), base),
            job.get().expires());
        case "failed" -> new ImportStatus.Failed(job.get().error());
        default -> new ImportStatus.Running(parts.stream().mapToLong(ImportJobTable.PartRow::imported).sum(),
            parts.stream().mapToLong(ImportJobTable.PartRow::errors).sum(),
            (int) parts.stream().filter(p -> p.status().equals("done")).count(), parts.size(),
            job.get().status().equals("merging"));
      });
    } catch (SQLException e) {
      throw FhirException.internal("Reading the import's status failed: " + e.getMessage(), e);
    }
  }

  /** Past its expiry, a job answers as gone before the sweep removes it. */
  private static boolean expired(ImportJobTable.JobRow job) {
    return job.expires() != null && job.expires().isBefore(java.time.Instant.now());
  }

  private static byte[] result(ImportJobTable.JobRow job, List<ImportJobTable.PartRow> parts,
      List<ImportJobTable.CountRow> counts, String base) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(512 + 256 * parts.size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("transactionTime", job.transactionTime().truncatedTo(ChronoUnit.MILLIS).toString());
      g.writeStringField("request", job.requestUrl());
      g.writeArrayFieldStart("output");
      for (ImportJobTable.CountRow n : counts) {
        g.writeStartObject();
        g.writeStringField("type", n.type());
        g.writeNumberField("count", n.count());
        g.writeStringField("inputUrl", parts.get(n.partNo() - 1).inputUrl());
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("error");
      for (ImportJobTable.PartRow p : parts) {
        if (p.errors() == 0) {
          continue;
        }
        g.writeStartObject();
        g.writeStringField("type", "OperationOutcome");
        g.writeNumberField("count", p.errors());
        g.writeStringField("inputUrl", p.inputUrl());
        g.writeStringField("url", base + "/_operations/import/" + job.id() + "/errors-" + p.partNo() + ".ndjson");
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory failed", e);
    }
    return out.toByteArray();
  }

  /** Cancels a running job: its parts stop at their next batch; what was imported stays. */
  public boolean cancel(UUID id, Caller caller) {
    try {
      Optional<ImportJobTable.JobRow> job = jobs.find(id).filter(j -> caller.owns(j.client()));
      if (job.isEmpty() || job.get().status().equals("cancelled") || expired(job.get())) {
        return false;
      }
      if (jobs.cancel(id, settings.lease())) {
        log.info("Import {} cancelled", id);
      }
      return true;
    } catch (SQLException e) {
      throw FhirException.internal("Cancelling the import failed: " + e.getMessage(), e);
    }
  }

  /** Whether the job has this part (and is this caller's). */
  public boolean hasPart(UUID id, int partNo, Caller caller) {
    try {
      return jobs.find(id).filter(j -> caller.owns(j.client()) && !expired(j)).isPresent()
          && partNo >= 1 && partNo <= jobs.parts(id).size();
    } catch (SQLException e) {
      throw FhirException.internal("Reading the import failed: " + e.getMessage(), e);
    }
  }

  /** Streams the error file of one part. */
  public void writeErrors(UUID id, int partNo, OutputStream out) throws IOException {
    try {
      jobs.writeErrors(id, partNo, out);
    } catch (SQLException e) {
      throw FhirException.internal("Reading the import's errors failed: " + e.getMessage(), e);
    }
  }
}

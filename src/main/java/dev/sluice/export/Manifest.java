package dev.sluice.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportJobRow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The completion manifest of the Bulk Data guide (bounded by the number of files of one job),
 * in STU3's form (also STU2's) or, when the client asked for it, STU4's: {@code manifestType}
 * and {@code outputFormat} added, {@code outcome} in place of {@code error}, and
 * {@code extension} an array of FHIR Extensions. Organized output ({@code organizeOutputBy})
 * adds {@code outputOrganizedBy}, and its output entries have no {@code type} but a
 * {@code continuesInFile} where a block goes on in another file.
 */
final class Manifest {
  private static final JsonFactory JSON = new JsonFactory();
  private static final String IG = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/";
  /** Sluice's extensions of the manifest (STU4 form). */
  static final String EXTENSION = "https://sluice.dev/fhir/StructureDefinition/manifest-anonymization";

  private Manifest() {}

  static byte[] of(ExportJobRow job, ExportRequest request, List<ExportFileRow> files, OutputStore store, String base) {
    return of(job, request, files, store, base, job.expiresAt(), null);
  }

  /**
   * One page of a manifest (allowPartialManifests).
   *
   * @param expires until when the URLs must work (a running job has no expiry yet)
   * @param next the URL of the next page, or null
   */
  static byte[] of(ExportJobRow job, ExportRequest request, List<ExportFileRow> files, OutputStore store, String base,
      java.time.Instant expires, String next) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(4096);
    try (JsonGenerator g = JSON.createGenerator(buffer)) {
      boolean stu4 = request.preferences().manifest() == Preferences.ManifestVersion.STU4;
      g.writeStartObject();
      if (stu4) {
        g.writeStringField("manifestType", IG + switch (request.level()) {
          case ExportLevel.System s -> "export";
          case ExportLevel.Patients p -> "patient-export";
          case ExportLevel.Group gr -> "group-export";
        });
      }
      g.writeStringField("transactionTime", job.transactionTime().toString());
      g.writeStringField("request", request.requestUrl());
      g.writeBooleanField("requiresAccessToken", store.requiresAccessToken());
      boolean organized = request.organizedByPatient();
      if (organized) {
        g.writeStringField("outputOrganizedBy", request.organizeOutputBy());
      }
      if (stu4) {
        g.writeStringField("outputFormat", "application/fhir+ndjson");
      }
      for (String kind : List.of(ExportFileRow.OUTPUT, ExportFileRow.DELETED, ExportFileRow.ERROR)) {
        if (kind.equals(ExportFileRow.DELETED) && request.since() == null) {
          continue;
        }
        g.writeArrayFieldStart(stu4 && kind.equals(ExportFileRow.ERROR) ? "outcome" : kind);
        for (ExportFileRow f : files) {
          if (f.kind().equals(kind)) {
            g.writeStartObject();
            // organized files hold many types: the guide's output entries then have no type
            boolean blocks = organized && kind.equals(ExportFileRow.OUTPUT);
            if (!blocks) {
              g.writeStringField("type", f.resType());
            }
            g.writeStringField("url", store.url(base, job.container(), job.id(), f.name(), expires));
            if (blocks && f.continuesSeq() != null) {
              g.writeStringField("continuesInFile", store.url(base, job.container(), job.id(),
                  ExportFileRow.name(f.prefix(), f.continuesSeq()), expires));
            }
            g.writeNumberField("count", f.resources());
            g.writeEndObject();
          }
        }
        g.writeEndArray();
      }
      if (next != null) {
        g.writeArrayFieldStart("link");
        g.writeStartObject();
        g.writeStringField("relation", "next");
        g.writeStringField("url", next);
        g.writeEndObject();
        g.writeEndArray();
      }
      if (request.anonymization() != null && stu4) {
        g.writeArrayFieldStart("extension");
        g.writeStartObject();
        g.writeStringField("url", EXTENSION);
        g.writeArrayFieldStart("extension");
        for (String[] e : new String[][] {{"config", request.anonymization().config()},
            {"sha256", request.anonymization().sha256()}}) {
          g.writeStartObject();
          g.writeStringField("url", e[0]);
          g.writeStringField("valueString", e[1]);
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeEndArray();
      } else if (request.anonymization() != null) {
        // the guide reserves "extension" for servers; this one says which configuration was applied
        g.writeObjectFieldStart("extension");
        g.writeObjectFieldStart("anonymization");
        g.writeStringField("config", request.anonymization().config());
        g.writeStringField("sha256", request.anonymization().sha256());
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buffer.toByteArray();
  }
}

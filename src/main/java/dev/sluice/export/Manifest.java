package dev.sluice.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportJobRow;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The completion manifest of the Bulk Data guide (bounded by the number of files of one job). */
final class Manifest {
  private static final JsonFactory JSON = new JsonFactory();

  private Manifest() {}

  static byte[] of(ExportJobRow job, ExportRequest request, List<ExportFileRow> files, OutputStore store, String base) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(4096);
    try (JsonGenerator g = JSON.createGenerator(buffer)) {
      g.writeStartObject();
      g.writeStringField("transactionTime", job.transactionTime().toString());
      g.writeStringField("request", request.requestUrl());
      g.writeBooleanField("requiresAccessToken", store.requiresAccessToken());
      for (String kind : List.of(ExportFileRow.OUTPUT, ExportFileRow.DELETED, ExportFileRow.ERROR)) {
        if (kind.equals(ExportFileRow.DELETED) && request.since() == null) {
          continue;
        }
        g.writeArrayFieldStart(kind);
        for (ExportFileRow f : files) {
          if (f.kind().equals(kind)) {
            g.writeStartObject();
            g.writeStringField("type", f.resType());
            g.writeStringField("url", store.url(base, job.container(), job.id(), f.name(), job.expiresAt()));
            g.writeNumberField("count", f.resources());
            g.writeEndObject();
          }
        }
        g.writeEndArray();
      }
      if (request.anonymization() != null) {
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

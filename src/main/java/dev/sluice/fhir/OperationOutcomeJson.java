package dev.sluice.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The one writer of OperationOutcome JSON, for HTTP answers, Bundle entries and the error
 * files of exports alike (minified, one line, so it is an NDJSON line as it is).
 */
public final class OperationOutcomeJson {
  private static final JsonFactory JSON = new JsonFactory();

  private OperationOutcomeJson() {}

  public static byte[] of(Issue issue) {
    return of(List.of(issue));
  }

  public static byte[] of(List<Issue> issues) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(buffer)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "OperationOutcome");
      g.writeArrayFieldStart("issue");
      for (Issue issue : issues) {
        g.writeStartObject();
        g.writeStringField("severity", issue.severity().fhirCode());
        g.writeStringField("code", issue.code().fhirCode());
        if (issue.message() != null) {
          g.writeObjectFieldStart("details");
          g.writeArrayFieldStart("coding");
          g.writeStartObject();
          g.writeStringField("system", MessageCode.SYSTEM);
          g.writeStringField("code", issue.message().code());
          g.writeEndObject();
          g.writeEndArray();
          g.writeEndObject();
        }
        g.writeStringField("diagnostics", issue.diagnostics());
        if (issue.expression() != null) {
          g.writeArrayFieldStart("expression");
          g.writeString(issue.expression());
          g.writeEndArray();
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException("writing to memory failed", e);
    }
    return buffer.toByteArray();
  }
}

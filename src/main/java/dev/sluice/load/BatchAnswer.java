package dev.sluice.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Reads what the server answered to a load request: a batch-response, or an OperationOutcome. */
final class BatchAnswer {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One entry's result: null {@code error} means stored. */
  record EntryResult(String status, String error) {
    boolean ok() {
      return error == null;
    }
  }

  private BatchAnswer() {}

  /**
   * The result of each entry of a batch-response, in request order.
   *
   * @throws IOException when the body is not a batch-response Bundle
   */
  static List<EntryResult> entries(byte[] body) throws IOException {
    JsonNode bundle = JSON.readTree(body);
    if (!"Bundle".equals(bundle.path("resourceType").asText())
        || !"batch-response".equals(bundle.path("type").asText())) {
      throw new IOException("the answer is not a batch-response Bundle");
    }
    List<EntryResult> results = new ArrayList<>();
    for (JsonNode entry : bundle.path("entry")) {
      JsonNode response = entry.path("response");
      String status = response.path("status").asText("");
      boolean ok = status.startsWith("2");
      results.add(new EntryResult(status, ok ? null : status + ": " + diagnostics(response.path("outcome"))));
    }
    return results;
  }

  /** The diagnostics of an OperationOutcome body, or the body's start when it is something else. */
  static String outcome(byte[] body) {
    try {
      return diagnostics(JSON.readTree(body));
    } catch (IOException e) {
      String text = new String(body, 0, Math.min(body.length, 200), java.nio.charset.StandardCharsets.UTF_8);
      return text.isBlank() ? "(no answer body)" : text;
    }
  }

  private static String diagnostics(JsonNode outcome) {
    List<String> parts = new ArrayList<>();
    for (JsonNode issue : outcome.path("issue")) {
      String text = issue.path("diagnostics").asText(issue.path("code").asText("error"));
      JsonNode expression = issue.path("expression");
      if (expression.isArray() && !expression.isEmpty()) {
        text += " [" + expression.get(0).asText() + "]";
      }
      parts.add(text);
    }
    return parts.isEmpty() ? "(no OperationOutcome)" : String.join("; ", parts);
  }
}

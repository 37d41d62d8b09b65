package dev.sluice.pull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/** What an error answer says: the OperationOutcome's issues, else the start of the body. */
final class ServerAnswer {
  private static final ObjectMapper JSON = new ObjectMapper();

  private ServerAnswer() {}

  static String describe(int status, String body) {
    List<String> issues = new ArrayList<>();
    try {
      JsonNode root = JSON.readTree(body);
      for (JsonNode issue : root.path("issue")) {
        String text = issue.path("diagnostics").asText(issue.path("details").path("text").asText(""));
        issues.add(issue.path("severity").asText("error") + ": " + text);
      }
    } catch (Exception e) {
      // not JSON: the body as it is
    }
    String said = !issues.isEmpty() ? String.join("; ", issues)
        : body == null || body.isBlank() ? "" : body.strip().substring(0, Math.min(300, body.strip().length()));
    return "HTTP " + status + (said.isEmpty() ? "" : " (" + said + ")");
  }
}

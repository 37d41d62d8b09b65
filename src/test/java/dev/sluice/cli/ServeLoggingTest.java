package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.ChildServer;
import dev.sluice.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sluice serve} as a user starts it, in its own JVM, configured by a file: JSON logs,
 * the access log, the version from the build, the schema version on a restart.
 */
class ServeLoggingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private Path dir;

  @AfterEach
  void cleanUp() {
    if (dir != null) {
      TestServer.deleteTree(dir);
    }
  }

  @Test
  void a_configuration_file_turns_on_json_logs_and_the_access_log_and_a_restart_names_the_schema_version()
      throws Exception {
    dir = Files.createTempDirectory("sluice-serve");
    int port = ChildServer.freePort();
    Path config = dir.resolve("sluice.properties");
    Files.writeString(config, "log-format=json\naccess-log=true\n");

    Path first;
    try (ChildServer server = ChildServer.start(dir.resolve("data"), port, "--config", config.toString())) {
      first = server.log();
      HttpResponse<String> metadata = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create(server.base() + "/metadata?_summary=true")).header("Authorization", "Bearer s3cret").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(metadata.statusCode()).isEqualTo(200);
    }

    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(first)) {
      if (line.startsWith("WARNING:")) {
        continue; // the JVM's own warnings (native access, Unsafe), not Logback's
      }
      lines.add(JSON.readTree(line));
    }
    assertThat(lines).as("every log line is a JSON object").allMatch(JsonNode::isObject)
        .allMatch(l -> l.has("level") && l.has("loggerName") && l.has("formattedMessage") && l.has("timestamp"));
    assertThat(Version.current()).matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(lines).anySatisfy(l -> assertThat(l.get("formattedMessage").asText())
        .startsWith("Starting Sluice " + Version.current() + " with"));
    List<String> access = lines.stream().filter(l -> l.get("loggerName").asText().equals("sluice.access"))
        .map(l -> l.get("formattedMessage").asText()).toList();
    assertThat(access).anySatisfy(a -> assertThat(a).matches("GET /fhir/metadata 200 \\d+ ms [1-9]\\d* bytes"));
    assertThat(String.join("\n", access)).doesNotContain("s3cret").doesNotContain("_summary");

    try (ChildServer again = ChildServer.start(dir.resolve("data"), port)) {
      assertThat(Files.readString(again.log()))
          .containsPattern("Database schema at version \\d+ \\(0 migrations applied now\\)")
          .doesNotContain("version null");
    }
  }
}

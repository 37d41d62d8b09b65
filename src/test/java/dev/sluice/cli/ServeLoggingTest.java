package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.TestServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sluice serve} as a user starts it, in its own JVM, configured by a file: JSON logs,
 * the access log, the version from the build, the schema version on a restart.
 */
class ServeLoggingTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<Process> processes = new ArrayList<>();
  private Path dir;

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (dir != null) {
      TestServer.deleteTree(dir);
    }
  }

  @Test
  void a_configuration_file_turns_on_json_logs_and_the_access_log_and_a_restart_names_the_schema_version()
      throws Exception {
    dir = Files.createTempDirectory("sluice-serve");
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path config = dir.resolve("sluice.properties");
    Files.writeString(config, "port=" + port + "\ndata-dir=" + dir.resolve("data") + "\nlog-format=json\naccess-log=true\n");

    Path first = dir.resolve("first.log");
    Process server = serve(config, first);
    HttpClient http = HttpClient.newHttpClient();
    HttpResponse<String> metadata = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + "/fhir/metadata?_summary=true")).header("Authorization", "Bearer s3cret")
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metadata.statusCode()).isEqualTo(200);
    stop(server);

    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(first)) {
      if (line.startsWith("WARNING:")) {
        continue; // the JVM's own warnings (native access, Unsafe), not Logback's
      }
      lines.add(JSON.readTree(line));
    }
    assertThat(lines).as("every log line is a JSON object").allMatch(JsonNode::isObject)
        .allMatch(l -> l.has("level") && l.has("loggerName") && l.has("formattedMessage") && l.has("timestamp"));
    assertThat(lines).anySatisfy(l -> assertThat(l.get("formattedMessage").asText())
        .startsWith("Starting Sluice " + Version.current() + " with"));
    assertThat(Version.current()).matches("\\d+\\.\\d+\\.\\d+.*");
    List<String> access = lines.stream().filter(l -> l.get("loggerName").asText().equals("sluice.access"))
        .map(l -> l.get("formattedMessage").asText()).toList();
    assertThat(access).anySatisfy(a -> assertThat(a).matches("GET /fhir/metadata 200 \\d+ ms [1-9]\\d* bytes"));
    assertThat(String.join("\n", access)).doesNotContain("s3cret").doesNotContain("_summary");

    Path second = dir.resolve("second.log");
    stop(serve(config, second));
    String restarted = Files.readString(second);
    assertThat(restarted).containsPattern("Database schema at version \\d+ \\(0 migrations applied now\\)")
        .doesNotContain("version null");
  }

  private Process serve(Path config, Path log) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        "dev.sluice.cli.Main", "serve", "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    processes.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.readString(log).contains("Sluice FHIR server ready")) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new AssertionError("the server did not start (" + (p.isAlive() ? "running" : "exit " + p.exitValue())
            + "): " + Files.readString(log));
      }
      Thread.sleep(200);
    }
    return p;
  }

  private static void stop(Process p) throws Exception {
    p.destroy();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
  }
}

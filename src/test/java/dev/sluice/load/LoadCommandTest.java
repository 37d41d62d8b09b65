package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.Main;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.LoadRun;
import dev.sluice.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class LoadCommandTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.startFresh();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static LoadRun load(String... args) {
    return LoadRun.into(server.base(), args);
  }

  private static long count(String type) {
    String body = server.get(type + "?_summary=count").body();
    return Long.parseLong(body.replaceAll(".*\"total\":(\\d+).*", "$1"));
  }

  @Test
  void loads_the_small_population_keeping_ids_and_prints_counts_per_type() {
    LoadRun run = load(Fixtures.small().toString(), "--batch-size", "200");
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("Loaded 3,302 of 3,302 resources").containsPattern("Observation\\s+1,754")
        .containsPattern("Patient\\s+10");
    assertThat(run.err()).contains("load:");
    assertThat(count("Observation")).isEqualTo(1754);
    assertThat(count("ExplanationOfBenefit")).isEqualTo(268);
    assertThat(count("Patient")).isEqualTo(10);
    String firstPatient = Fixtures.ndjson(Fixtures.small(), "Patient").getFirst();
    String id = firstPatient.replaceAll("^.*?\"id\":\"([^\"]+)\".*$", "$1");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void bad_lines_are_reported_with_file_line_and_reason_and_the_rest_loads(@org.junit.jupiter.api.io.TempDir Path dir)
      throws IOException {
    Path file = dir.resolve("mixed.ndjson.gz");
    try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(file))) {
      gz.write(String.join("\n",
          "{\"resourceType\":\"Device\",\"id\":\"load-good-1\"}",
          "{\"resourceType\":\"Device\",\"id\":\"load-bad-json\",",
          "{\"resourceType\":\"Device\",\"id\":\"load-unknown-element\",\"hairColour\":\"red\"}",
          "",
          "{\"resourceType\":\"Patient\"}",
          "{\"resourceType\":\"Unicorn\",\"id\":\"load-unicorn\"}",
          "{\"resourceType\":\"Device\",\"id\":\"load-good-2\"}").getBytes(StandardCharsets.UTF_8));
    }
    LoadRun run = load(file.toString(), "--batch-size", "10");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).contains("Loaded 2 of 6 resources").contains("4 lines failed")
        .contains(file + ":2: malformed JSON")
        .contains(file + ":3: 400").contains("hairColour")
        .contains(file + ":5: no id")
        .contains(file + ":6: 400").contains("Unicorn");
    assertThat(server.get("Device/load-good-1").statusCode()).isEqualTo(200);
    assertThat(server.get("Device/load-good-2").statusCode()).isEqualTo(200);
    assertThat(server.get("Device/load-unknown-element").statusCode()).isEqualTo(404);
  }

  @Test
  void an_unreachable_server_exits_with_2_and_says_so() throws IOException {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new CommandLine(new Main())
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
        .execute("load", Fixtures.small().toString(), "--server", "http://127.0.0.1:" + port + "/fhir");
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("does not answer as a FHIR server: connection refused");
  }

  @Test
  void an_unreachable_server_of_a_smart_client_exits_with_2_and_says_why() throws Exception {
    int port;
    try (var socket = new java.net.ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    Path key = Files.createTempFile("sluice-key", ".json");
    Files.writeString(key, new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("k").generate().toJSONString());
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = new CommandLine(new Main())
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
        .execute("load", Fixtures.small().toString(), "--server", "http://127.0.0.1:" + port + "/fhir",
            "--client-id", "loader", "--private-key", key.toString());
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("/.well-known/smart-configuration: connection refused");
  }

  @Test
  void a_path_that_does_not_exist_exits_with_2() {
    LoadRun run = load("/no/such/folder");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("/no/such/folder");
  }
}

package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.cli.EdgeConfig;
import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The audit log: one JSON line per request on {@code sluice.audit}, here into its own file ({@code --audit-log}). */
class AuditLogTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestServer server;
  private static Path auditFile;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("sluice-audit");
    auditFile = Files.createTempFile("sluice-audit", ".log");
    server = TestServer.start(dir, d -> TestServer.config(d).with(
        new EdgeConfig(EdgeConfig.none().oidc(), Optional.empty(), Optional.of(auditFile))).validate());
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    Files.deleteIfExists(auditFile);
  }

  /** The first audit line that matches, waiting for it: the line is written just after the answer is sent. */
  private static JsonNode line(Predicate<JsonNode> matching) throws Exception {
    for (int i = 0; i < 100; i++) {
      for (String text : Files.readAllLines(auditFile)) {
        JsonNode line = JSON.readTree(text);
        if (matching.test(line)) {
          return line;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no such audit line in:\n" + Files.readString(auditFile));
  }

  @Test
  void a_create_is_recorded_with_client_type_id_and_status_but_never_the_token_or_the_body() throws Exception {
    var r = server.put("Patient/audit-1", "{\"resourceType\":\"Patient\",\"id\":\"audit-1\",\"name\":[{\"family\":"
        + "\"Zyxwvutsrq\"}]}", "Authorization", "Bearer a-secret-credential");
    assertThat(r.statusCode()).isEqualTo(201);

    JsonNode line = line(l -> l.path("id").asText().equals("audit-1"));
    assertThat(line.path("interaction").asText()).isEqualTo("update");
    assertThat(line.path("type").asText()).isEqualTo("Patient");
    assertThat(line.path("status").asInt()).isEqualTo(201);
    assertThat(line.path("client").asText()).isNotEmpty();
    assertThat(line.path("time").asText()).isNotEmpty();
    String all = Files.readString(auditFile);
    assertThat(all).doesNotContain("a-secret-credential").doesNotContain("Zyxwvutsrq");
  }

  @Test
  void a_search_is_recorded_with_its_query() throws Exception {
    assertThat(server.get("Observation?code=audit-code&_count=3").statusCode()).isEqualTo(200);

    JsonNode line = line(l -> l.path("query").asText().contains("audit-code"));
    assertThat(line.path("interaction").asText()).isEqualTo("search-type");
    assertThat(line.path("type").asText()).isEqualTo("Observation");
    assertThat(line.path("query").asText()).isEqualTo("code=audit-code&_count=3");
    assertThat(line.path("status").asInt()).isEqualTo(200);
  }

  @Test
  void a_read_of_a_missing_resource_is_recorded_with_its_404() throws Exception {
    assertThat(server.get("Patient/audit-missing").statusCode()).isEqualTo(404);

    JsonNode line = line(l -> l.path("id").asText().equals("audit-missing"));
    assertThat(line.path("interaction").asText()).isEqualTo("read");
    assertThat(line.path("status").asInt()).isEqualTo(404);
  }

  @Test
  void export_kickoff_status_and_cancel_are_recorded_with_the_job_id() throws Exception {
    var kickoff = server.get("$export?_type=Patient", "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(kickoff.statusCode()).isEqualTo(202);
    String location = kickoff.headers().firstValue("Content-Location").orElseThrow();
    String job = location.substring(location.lastIndexOf('/') + 1);
    server.get(location);
    server.delete(location);

    List<String> interactions = new ArrayList<>();
    for (String interaction : List.of("export", "export-status", "export-cancel")) {
      JsonNode line = line(l -> l.path("interaction").asText().equals(interaction) && l.path("job").asText().equals(job));
      interactions.add(line.path("interaction").asText());
    }
    assertThat(interactions).containsExactly("export", "export-status", "export-cancel");
    assertThat(line(l -> l.path("interaction").asText().equals("export") && l.path("job").asText().equals(job))
        .path("query").asText()).isEqualTo("_type=Patient");
  }

  @Test
  void health_probes_are_not_audited() throws Exception {
    assertThat(server.get("/health").statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/audit-after-health").statusCode()).isEqualTo(404);
    line(l -> l.path("id").asText().equals("audit-after-health"));

    assertThat(Files.readString(auditFile)).doesNotContain("/health");
  }
}

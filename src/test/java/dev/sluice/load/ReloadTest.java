package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.cli.Main;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Loading the same files again stores nothing new, so a {@code _since} chain carries only real changes. */
class ReloadTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.startFresh();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static void load(Path dir) {
    StringWriter out = new StringWriter();
    int code = new CommandLine(new Main()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(new StringWriter()))
        .execute("load", dir.toString(), "--server", server.base(), "--batch-size", "200");
    assertThat(code).as(out.toString()).isZero();
  }

  private static JsonNode json(String body) throws IOException {
    return JSON.readTree(body);
  }

  /** Kicks off a system export and returns its manifest. */
  private static JsonNode export(String query) throws Exception {
    HttpResponse<String> kickoff = server.get("$export" + query, "Accept", "application/fhir+json", "Prefer",
        "respond-async");
    assertThat(kickoff.statusCode()).as(kickoff.body()).isEqualTo(202);
    String status = kickoff.headers().firstValue("Content-Location").orElseThrow();
    for (int i = 0; i < 1200; i++) {
      HttpResponse<String> r = server.get(status);
      if (r.statusCode() != 202) {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r.body());
      }
      Thread.sleep(50);
    }
    throw new AssertionError("export still running after 60 s");
  }

  private static long count(String sql) throws Exception {
    try (Connection c = server.app().dataSource().getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void loading_the_same_files_twice_keeps_one_version_each_and_a_since_export_sends_only_real_changes(@TempDir Path dir)
      throws Exception {
    load(Fixtures.small());
    String firstLoad = export("?_type=Patient").get("transactionTime").asText();
    load(Fixtures.small());

    assertThat(count("select count(*) from resource_version")).isEqualTo(3302).isEqualTo(count("select count(*) from resource"));
    JsonNode history = json(server.get("Patient/_history?_count=100").body());
    assertThat(history.path("entry")).hasSize(10)
        .allSatisfy(e -> assertThat(e.at("/resource/meta/versionId").asText()).isEqualTo("1"));
    String since = "?_since=" + URLEncoder.encode(firstLoad, StandardCharsets.UTF_8);
    JsonNode nothing = export(since);
    assertThat(nothing.get("output")).isEmpty();
    assertThat(nothing.get("deleted")).isEmpty();

    // one changed Patient among the same others: only it is a new version and in the next export
    List<String> patients = Fixtures.ndjson(Fixtures.small(), "Patient");
    String changed = patients.getFirst().replaceFirst("\"gender\":\"(male|female)\"", "\"gender\":\"other\"");
    assertThat(changed).isNotEqualTo(patients.getFirst());
    Files.writeString(dir.resolve("Patient.ndjson"),
        changed + "\n" + String.join("\n", patients.subList(1, patients.size())) + "\n");
    load(dir);
    JsonNode one = export(since);
    assertThat(one.get("output")).hasSize(1);
    assertThat(one.at("/output/0/type").asText()).isEqualTo("Patient");
    assertThat(one.at("/output/0/count").asLong()).isEqualTo(1);
    assertThat(count("select count(*) from resource_version")).isEqualTo(3303);
  }
}

package dev.sluice.pull;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ExportRun;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.LoadRun;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code sluice export} against Sluice itself, over real HTTP, at system, Patient and Group level. */
class SluiceExportTest {
  private static TestServer server;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.startFresh();
    dir = Files.createTempDirectory("sluice-pull-sluice");
    LoadRun load = LoadRun.into(server.base(), Fixtures.small().toString());
    assertThat(load.exitCode()).as(load.out() + load.err()).isZero();
  }

  @AfterAll
  static void stop() {
    server.close();
    TestServer.deleteTree(dir);
  }

  private static long lines(Path file) throws IOException {
    try (var s = Files.lines(file)) {
      return s.filter(l -> !l.isBlank()).count();
    }
  }

  /** Lines of every file of a type under the directory (a type can span several files). */
  private static long linesOf(Path out, String type) throws IOException {
    long n = 0;
    for (int i = 1; Files.exists(out.resolve(type + "-" + i + ".ndjson")); i++) {
      n += lines(out.resolve(type + "-" + i + ".ndjson"));
    }
    return n;
  }

  @Test
  void a_system_export_downloads_every_resource_of_the_types_asked_for() throws Exception {
    Path out = dir.resolve("system");

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(),
        "--type", "Patient,Observation,Organization", "--parallel", "3");

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    for (String type : List.of("Patient", "Observation", "Organization")) {
      assertThat(linesOf(out, type)).as(type).isEqualTo(Fixtures.ndjson(Fixtures.small(), type).size());
    }
    assertThat(out.resolve("Condition-1.ndjson")).doesNotExist();
    assertThat(out.resolve("manifest.json")).exists();
    assertThat(out.resolve("status-url")).exists();
    assertThat(run.out()).contains("Export complete")
        .containsPattern("Patient\\s+\\d+\\s+" + Fixtures.ndjson(Fixtures.small(), "Patient").size());
  }

  @Test
  void a_patient_export_by_post_downloads_the_compartment_of_every_patient() throws Exception {
    Path out = dir.resolve("patients");

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(),
        "--patients", "--post", "--type", "Patient,Condition");

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    assertThat(linesOf(out, "Patient")).isEqualTo(Fixtures.ndjson(Fixtures.small(), "Patient").size());
    assertThat(linesOf(out, "Condition")).isEqualTo(Fixtures.ndjson(Fixtures.small(), "Condition").size());
  }

  @Test
  void a_group_export_downloads_its_members_only() throws Exception {
    List<String> patients = Fixtures.ndjson(Fixtures.small(), "Patient");
    String first = patients.get(0).replaceAll(".*?\"id\":\"([^\"]+)\".*", "$1");
    String second = patients.get(1).replaceAll(".*?\"id\":\"([^\"]+)\".*", "$1");
    assertThat(server.put("Group/pull-g", "{\"resourceType\":\"Group\",\"id\":\"pull-g\",\"type\":\"person\","
        + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"Patient/" + first + "\"}},"
        + "{\"entity\":{\"reference\":\"Patient/" + second + "\"}}]}").statusCode()).isIn(200, 201);
    Path out = dir.resolve("group");

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(),
        "--group", "pull-g", "--type", "Patient");

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    assertThat(Files.readString(out.resolve("Patient-1.ndjson"))).contains("\"id\":\"" + first + "\"")
        .contains("\"id\":\"" + second + "\"");
    assertThat(linesOf(out, "Patient")).isEqualTo(2);
  }

  @Test
  void a_second_run_into_the_same_directory_is_refused_and_resume_fetches_nothing_again() throws Exception {
    Path out = dir.resolve("again");
    assertThat(ExportRun.of("--server", server.base(), "--out", out.toString(), "--type", "Patient")
        .exitCode()).isZero();
    byte[] before = Files.readAllBytes(out.resolve("Patient-1.ndjson"));

    ExportRun again = ExportRun.of("--server", server.base(), "--out", out.toString());
    ExportRun resumed = ExportRun.of("--server", server.base(), "--out",
        out.toString(), "--resume");

    assertThat(again.exitCode()).isEqualTo(2);
    assertThat(again.err()).contains("holds another export").contains("--resume");
    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
    assertThat(resumed.err()).contains("0.0 MB fetched");
    assertThat(Files.readAllBytes(out.resolve("Patient-1.ndjson"))).isEqualTo(before);
  }

  @Test
  void an_export_the_server_refuses_names_the_parameter() {
    ExportRun run = ExportRun.of("--server", server.base(), "--out",
        dir.resolve("refused").toString(), "--type", "NoSuchType");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("was refused: HTTP 400").contains("NoSuchType");
  }

  @Test
  void into_loads_the_exported_resources_into_another_server() throws Exception {
    Path out = dir.resolve("into");
    try (TestServer target = TestServer.startFresh()) {
      ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(), "--type",
          "Patient,Condition", "--into", target.base());

      assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
      for (String type : List.of("Patient", "Condition")) {
        String total = target.get(type + "?_summary=count").body();
        assertThat(total).as(type).contains("\"total\":" + Fixtures.ndjson(Fixtures.small(), type).size());
      }
    }
  }
}

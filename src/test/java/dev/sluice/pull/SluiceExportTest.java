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
      assertThat(run.out()).contains("by batches");
      for (String type : List.of("Patient", "Condition")) {
        String total = target.get(type + "?_summary=count").body();
        assertThat(total).as(type).contains("\"total\":" + Fixtures.ndjson(Fixtures.small(), type).size());
      }
    }
  }

  @Test
  void into_a_sluice_whose_import_folder_is_at_hand_goes_through_import_and_keeps_versions() throws Exception {
    Path out = dir.resolve("into-import");
    try (TestServer target = TestServer.startFresh()) {
      Path imports = Files.createDirectories(target.dataDir().resolve("imports"));
      ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(), "--type",
          "Patient,Condition", "--into", target.base(), "--into-import-dir", imports.toString());

      assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
      assertThat(run.out()).contains("through $import");
      for (String type : List.of("Patient", "Condition")) {
        String total = target.get(type + "?_summary=count").body();
        assertThat(total).as(type).contains("\"total\":" + Fixtures.ndjson(Fixtures.small(), type).size());
      }
      // $import keeps each resource's version and lastUpdated: the same bytes on both servers
      String id = Fixtures.ndjson(Fixtures.small(), "Patient").get(0).replaceAll(".*?\"id\":\"([^\"]+)\".*", "$1");
      assertThat(target.get("Patient/" + id).body()).isEqualTo(server.get("Patient/" + id).body());
    }
  }

  @Test
  void into_applies_the_deleted_files_as_deletions_by_batches() throws Exception {
    deletionsReachTheTarget("deleted-batches", false);
  }

  @Test
  void into_applies_the_deleted_files_as_deletions_next_to_import() throws Exception {
    deletionsReachTheTarget("deleted-import", true);
  }

  private void deletionsReachTheTarget(String name, boolean viaImport) throws Exception {
    String id = "gone-" + name;
    String patient = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"active\":true}";
    Path out = dir.resolve(name);
    try (TestServer target = TestServer.startFresh()) {
      assertThat(server.put("Patient/" + id, patient).statusCode()).isIn(200, 201);
      assertThat(target.put("Patient/" + id, patient).statusCode()).isIn(200, 201);
      java.time.Instant since = java.time.Instant.now();
      Thread.sleep(20);
      assertThat(server.delete("Patient/" + id).statusCode()).isIn(200, 204);
      List<String> args = new java.util.ArrayList<>(List.of("--server", server.base(), "--out", out.toString(),
          "--type", "Patient", "--since", since.toString(), "--into", target.base()));
      if (viaImport) {
        args.addAll(List.of("--into-import-dir",
            Files.createDirectories(target.dataDir().resolve("imports")).toString()));
      }

      ExportRun run = ExportRun.of(args.toArray(String[]::new));

      assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
      assertThat(out.resolve("deleted/Bundle-1.ndjson")).exists();
      assertThat(target.get("Patient/" + id).statusCode()).isEqualTo(410);
      assertThat(run.out()).contains("1 deleted");
    }
  }
}

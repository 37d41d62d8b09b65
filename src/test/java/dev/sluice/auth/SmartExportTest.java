package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.AuthConfig;
import dev.sluice.testing.ExportRun;
import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code sluice export} as a client of a Sluice under {@code --auth smart}: SMART keys, a given token, none. */
class SmartExportTest {
  private static TestServer server;
  private static Path dir;
  private static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("sluice-smart-export");
    server = TestServer.start(dir, d -> TestServer.config(d).with(AuthConfig.smart()));
    client = TestClient.rsa("exporter").registerInline(server, "system/*.cruds");
    String writer = client.token(server, "system/Patient.cu");
    for (int i = 0; i < 4; i++) {
      assertThat(server.put("Patient/smart-export-" + i, "{\"resourceType\":\"Patient\",\"id\":\"smart-export-" + i
          + "\"}", "Authorization", "Bearer " + writer).statusCode()).isIn(200, 201);
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static ExportRun export(Path out, String... args) {
    String[] all = new String[args.length + 5];
    System.arraycopy(new String[] {"--server", server.base(), "--out", out.toString(), "--type=Patient"}, 0, all, 0, 5);
    System.arraycopy(args, 0, all, 5, args.length);
    return ExportRun.of(all);
  }

  private static long patients(Path out) throws Exception {
    try (var lines = Files.lines(out.resolve("Patient-1.ndjson"))) {
      return lines.filter(l -> l.contains("\"smart-export-")).count();
    }
  }

  @Test
  void with_smart_keys_the_export_gets_its_tokens_and_downloads_with_them() throws Exception {
    Path key = dir.resolve("exporter.pem");
    Files.writeString(key, SmartLoadTest.pkcs8Pem(client));
    Path out = dir.resolve("smart");

    ExportRun run = export(out, "--client-id", "exporter", "--private-key", key.toString(), "--key-id",
        client.key().getKeyID(), "--scope", "system/Patient.rs");

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    assertThat(Files.readString(out.resolve("manifest.json"))).contains("\"requiresAccessToken\":true");
    assertThat(patients(out)).isEqualTo(4);
  }

  @Test
  void with_a_given_token_the_export_downloads() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, client.token(server, "system/Patient.rs") + "\n");
    Path out = dir.resolve("token-file");

    ExportRun run = export(out, "--token-file", token.toString());

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    assertThat(patients(out)).isEqualTo(4);
  }

  @Test
  void without_credentials_the_kick_off_is_refused_with_401() {
    ExportRun run = export(dir.resolve("none"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("was refused: HTTP 401");
  }
}

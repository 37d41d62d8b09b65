package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.AuthConfig;
import dev.sluice.testing.ExportRun;
import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sluice export --into} a Sluice under {@code --auth smart}: the target's credentials are
 * options of their own ({@code --into-token}, {@code --into-client-id} with
 * {@code --into-private-key}), apart from the source's, so a migration between two protected
 * servers never sends one server's token to the other.
 */
class SmartIntoTest {
  private static TestServer source;
  private static TestServer target;
  private static Path dir;
  private Path out;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("sluice-smart-into");
    source = TestServer.startFresh();
    target = TestServer.start(dir.resolve("target"), d -> TestServer.config(d).with(new AuthConfig(AuthMode.SMART,
        false, 300)));
  }

  @AfterAll
  static void stop() {
    source.close();
    target.close();
    TestServer.deleteTree(dir);
  }

  @BeforeEach
  void out() throws Exception {
    out = Files.createTempDirectory(dir, "out");
  }

  @AfterEach
  void clean() {
    TestServer.deleteTree(out);
  }

  /** Three Patients on the source, with ids of this test's prefix. */
  private static void patients(String prefix) {
    for (int i = 0; i < 3; i++) {
      assertThat(source.put("Patient/" + prefix + i, "{\"resourceType\":\"Patient\",\"id\":\"" + prefix + i + "\"}",
          "Content-Type", "application/fhir+json").statusCode()).isIn(200, 201);
    }
  }

  private static int status(String id, TestClient reader) {
    return target.get("Patient/" + id, "Authorization", "Bearer " + reader.token(target, "system/Patient.rs"))
        .statusCode();
  }

  @Test
  void smart_backend_services_credentials_of_the_target_load_into_it() throws Exception {
    patients("into-smart-");
    TestClient client = TestClient.rsa("into-loader").registerInline(target, "system/*.cruds");
    Path key = dir.resolve("into-loader.pem");
    Files.writeString(key, SmartLoadTest.pkcs8Pem(client));

    ExportRun run = ExportRun.of("--server", source.base(), "--type", "Patient", "--out", out.toString(),
        "--into", target.base(), "--into-client-id", "into-loader", "--into-private-key", key.toString(),
        "--into-key-id", client.key().getKeyID(), "--into-scope", "system/Patient.cu");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("Loaded into " + target.base());
    assertThat(status("into-smart-2", client)).isEqualTo(200);
  }

  @Test
  void deletions_reach_the_target_with_its_credentials() throws Exception {
    patients("into-del-");
    TestClient client = TestClient.rsa("into-deleter").registerInline(target, "system/*.cruds");
    Path token = dir.resolve("into-deleter.token");
    Files.writeString(token, client.token(target, "system/Patient.cud"));
    ExportRun first = ExportRun.of("--server", source.base(), "--type", "Patient", "--out", out.toString(),
        "--into", target.base(), "--into-token-file", token.toString());
    assertThat(first.exitCode()).as(first.out() + first.err()).isZero();
    assertThat(status("into-del-1", client)).isEqualTo(200);
    String since = java.time.Instant.now().toString();
    Thread.sleep(20);
    assertThat(source.delete("Patient/into-del-1").statusCode()).isIn(200, 204);
    Path again = Files.createTempDirectory(dir, "since");

    ExportRun second = ExportRun.of("--server", source.base(), "--type", "Patient", "--since", since,
        "--out", again.toString(), "--into", target.base(), "--into-token-file", token.toString());

    assertThat(second.exitCode()).as(second.out() + second.err()).isZero();
    assertThat(second.out()).contains("1 deleted");
    assertThat(status("into-del-1", client)).isEqualTo(410);
    assertThat(status("into-del-0", client)).isEqualTo(200);
  }

  @Test
  void a_bearer_token_of_the_target_loads_into_it() throws Exception {
    patients("into-token-");
    TestClient client = TestClient.rsa("into-token").registerInline(target, "system/*.cruds");
    Path token = dir.resolve("into.token");
    Files.writeString(token, client.token(target, "system/Patient.cu") + "\n");

    ExportRun run = ExportRun.of("--server", source.base(), "--type", "Patient", "--out", out.toString(),
        "--into", target.base(), "--into-token-file", token.toString());

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(status("into-token-0", client)).isEqualTo(200);
  }

  @Test
  void without_credentials_for_the_target_the_run_fails_and_says_so() throws Exception {
    patients("into-none-");
    TestClient reader = TestClient.rsa("into-none-reader").registerInline(target, "system/*.rs");

    ExportRun run = ExportRun.of("--server", source.base(), "--type", "Patient", "--out", out.toString(),
        "--into", target.base());

    assertThat(run.exitCode()).as(run.out() + run.err()).isNotZero();
    assertThat(run.out() + run.err()).contains("401");
    assertThat(status("into-none-0", reader)).isEqualTo(404);
  }

  @Test
  void the_targets_credentials_come_alone_one_kind_at_a_time() {
    ExportRun run = ExportRun.of("--server", source.base(), "--out", out.toString(), "--into", target.base(),
        "--into-token", "t", "--into-client-id", "c");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--into-token").contains("--into-client-id");
  }

  @Test
  void target_credentials_without_into_are_refused() {
    ExportRun run = ExportRun.of("--server", source.base(), "--out", out.toString(), "--into-token", "t");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--into");
  }
}

package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import dev.sluice.cli.AuthConfig;
import dev.sluice.cli.Main;
import dev.sluice.store.DataDirLock;
import dev.sluice.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code sluice clients} and {@code sluice keys}, with and without a server running on the data directory. */
class ClientsCommandTest {
  private record Run(int code, String out, String err) {}

  private static Run sluice(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = new CommandLine(new Main()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
        .execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private static Path pem(TestClient client, Path dir) throws Exception {
    byte[] der = client.key().toPublicJWK().toRSAKey().toPublicKey().getEncoded();
    Path file = dir.resolve(client.id() + ".pub.pem");
    Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END PUBLIC KEY-----\n");
    return file;
  }

  /** The client's public keys as a JWKS file in {@code dir}, for {@code --jwks-file}. */
  private static Path jwksFile(Path dir, TestClient client) throws Exception {
    Path jwks = dir.resolve("jwks.json");
    Files.writeString(jwks, client.publicJwks());
    return jwks;
  }

  @Test
  void a_client_added_while_no_server_runs_gets_tokens_once_one_does() throws Exception {
    Path dir = Files.createTempDirectory("sluice-clients-offline");
    TestClient client = TestClient.ec("offline");
    Path jwks = jwksFile(dir, client);
    Run add = sluice("clients", "add", "--data-dir", dir.toString(), "--id", "offline", "--jwks-file", jwks.toString(),
        "--scope", "system/*.read");
    assertThat(add.code()).as(add.err()).isZero();
    assertThat(add.out()).contains("Registered client offline");
    try (TestServer server = TestServer.start(dir, d -> TestServer.config(d).with(AuthConfig.smart()))) {
      assertThat(client.token(server, "system/*.read")).isNotBlank();
    }
  }

  @Test
  void clients_added_listed_and_removed_while_the_server_runs_apply_at_once() throws Exception {
    Path dir = Files.createTempDirectory("sluice-clients-online");
    try (TestServer server = TestServer.start(dir, d -> TestServer.config(d).with(AuthConfig.smart()))) {
      TestClient client = TestClient.rsa("online");
      Path pem = pem(client, Files.createTempDirectory("sluice-pem"));
      Run add = sluice("clients", "add", "--data-dir", dir.toString(), "--id", "online", "--public-key",
          pem.toString(), "--scope", "system/Patient.rs");
      assertThat(add.code()).as(add.err()).isZero();
      // the kid is the key's thumbprint: what the client must name in its assertions
      String kid = client.key().computeThumbprint().toString();
      assertThat(add.out()).contains("key " + kid);
      TestClient named = client.withKid(kid);
      assertThat(named.token(server, "system/Patient.rs")).isNotBlank();

      Run list = sluice("clients", "list", "--data-dir", dir.toString());
      assertThat(list.out()).contains("online\tinline keys\tsystem/Patient.rs");

      assertThat(sluice("clients", "remove", "--data-dir", dir.toString(), "--id", "online").code()).isZero();
      assertThat(TestClient.requestToken(server, named.assertion(TestClient.tokenUrl(server)), "system/Patient.rs")
          .statusCode()).isEqualTo(401);
      assertThat(sluice("clients", "remove", "--data-dir", dir.toString(), "--id", "online").code()).isEqualTo(1);
    }
  }

  @Test
  void bad_registrations_are_refused_with_a_reason() throws Exception {
    Path dir = Files.createTempDirectory("sluice-clients-bad");
    try {
      TestClient client = TestClient.rsa("bad");
      Path priv = dir.resolve("private.json");
      Files.writeString(priv, "{\"keys\":[" + client.key().toJSONString() + "]}");
      Run privateKey = sluice("clients", "add", "--data-dir", dir.toString(), "--id", "bad", "--jwks-file",
          priv.toString(), "--scope", "system/*.read");
      assertThat(privateKey.code()).isEqualTo(2);
      assertThat(privateKey.err()).contains("private key");
      Run scope = sluice("clients", "add", "--data-dir", dir.toString(), "--id", "bad", "--jwks-url",
          "https://client.example/jwks.json", "--scope", "system/*.read patient/*.reed");
      assertThat(scope.code()).isEqualTo(2);
      assertThat(scope.err()).contains("patient/*.reed");
      Run http = sluice("clients", "add", "--data-dir", dir.toString(), "--id", "bad", "--jwks-url",
          "http://client.example/jwks.json", "--scope", "system/*.read");
      assertThat(http.code()).isEqualTo(2);
      assertThat(http.err()).contains("https");
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  @Test
  void a_client_added_while_the_server_is_still_starting_waits_for_it() throws Exception {
    Path dir = Files.createTempDirectory("sluice-clients-starting");
    TestClient client = TestClient.ec("early");
    Path jwks = jwksFile(dir, client);
    CompletableFuture<Run> add;
    // a server that holds the directory and has not started its PostgreSQL yet, as just after `sluice serve &`
    try (DataDirLock starting = DataDirLock.acquire(dir, "port 8080")) {
      add = CompletableFuture.supplyAsync(() -> sluice("clients", "add", "--data-dir", dir.toString(), "--id", "early",
          "--jwks-file", jwks.toString(), "--scope", "system/*.read"));
      Thread.sleep(1500);
      assertThat(add).as("the command waits while the directory's server starts").isNotDone();
    }
    Run run = add.get(120, TimeUnit.SECONDS);
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("Registered client early");
  }

  @Test
  void a_data_directory_being_upgraded_is_refused_in_one_line() throws Exception {
    Path dir = Files.createTempDirectory("sluice-clients-upgrading");
    try (DataDirLock upgrading = DataDirLock.acquire(dir, "upgrade-data-dir")) {
      Run list = sluice("clients", "list", "--data-dir", dir.toString());
      assertThat(list.code()).isEqualTo(2);
      assertThat(list.err()).startsWith("sluice clients list: another Sluice, pid ").contains("upgrade-data-dir")
          .doesNotContain("\tat ");
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  @Test
  void a_key_rotation_signs_new_tokens_with_the_new_key_and_old_tokens_stay_valid() throws Exception {
    Path dir = Files.createTempDirectory("sluice-keys-rotate");
    try (TestServer server = TestServer.start(dir, d -> TestServer.config(d).with(AuthConfig.smart()))) {
      TestClient client = TestClient.ec("rotating").registerInline(server, "system/*.read");
      String before = client.token(server, "system/*.read");
      Run rotate = sluice("keys", "rotate", "--data-dir", dir.toString());
      assertThat(rotate.code()).as(rotate.err()).isZero();
      String after = client.token(server, "system/*.read");
      String newKid = SignedJWT.parse(after).getHeader().getKeyID();
      assertThat(rotate.out()).contains(newKid);
      assertThat(SignedJWT.parse(before).getHeader().getKeyID()).isNotEqualTo(newKid);
      assertThat(server.get("Patient?_count=1", "Authorization", "Bearer " + before).statusCode()).isEqualTo(200);
      assertThat(server.get("Patient?_count=1", "Authorization", "Bearer " + after).statusCode()).isEqualTo(200);
      assertThat(server.get("auth/jwks").body()).contains(newKid);
    }
  }
}

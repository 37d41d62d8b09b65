package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JOSEException;
import dev.sluice.cli.AuthConfig;
import dev.sluice.client.SmartTokenSource;
import dev.sluice.testing.LoadRun;
import dev.sluice.testing.Pem;
import dev.sluice.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code sluice load} as a SMART Backend Services client of a Sluice under {@code --auth smart}. */
class SmartLoadTest {
  private static TestServer server;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("sluice-smart-load");
    // tokens of 10 s, the shortest allowed, so that renewal shows within a small move of a clock
    server = TestServer.start(dir, d -> TestServer.config(d).with(new AuthConfig(AuthMode.SMART, false, 10)));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static LoadRun load(String... args) {
    return LoadRun.into(server.base(), args);
  }

  private static Path patients(String prefix, int n) throws Exception {
    return patients(dir, prefix, n);
  }

  /** An NDJSON file of n Patients with ids prefix0, prefix1, ... */
  static Path patients(Path dir, String prefix, int n) throws Exception {
    StringBuilder lines = new StringBuilder();
    for (int i = 0; i < n; i++) {
      lines.append("{\"resourceType\":\"Patient\",\"id\":\"").append(prefix).append(i).append("\"}\n");
    }
    Path file = Files.createTempFile(dir, prefix, ".ndjson");
    Files.writeString(file, lines);
    return file;
  }

  static String pkcs8Pem(TestClient client) throws JOSEException {
    return Pem.of("PRIVATE KEY", client.key().toRSAKey().toPrivateKey().getEncoded());
  }

  @Test
  void a_client_with_an_rsa_pem_key_loads_into_a_protected_server() throws Exception {
    TestClient client = TestClient.rsa("loader-rsa").registerInline(server, "system/*.cruds");
    Path key = dir.resolve("rsa.pem");
    Files.writeString(key, pkcs8Pem(client));

    LoadRun run = load(patients("smart-load-rsa-", 7).toString(), "--client-id", "loader-rsa", "--private-key",
        key.toString(), "--key-id", client.key().getKeyID(), "--scope", "system/Patient.cu");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("Loaded 7 of 7 resources");
    String reader = client.token(server, "system/Patient.rs");
    assertThat(server.get("Patient/smart-load-rsa-6", "Authorization", "Bearer " + reader).statusCode())
        .isEqualTo(200);
  }

  @Test
  void a_client_with_a_p384_jwk_loads_into_a_protected_server() throws Exception {
    TestClient client = TestClient.ec("loader-ec").registerInline(server, "system/*.cruds");
    Path key = dir.resolve("ec.jwk");
    Files.writeString(key, client.key().toJSONString());

    LoadRun run = load(patients("smart-load-ec-", 3).toString(), "--client-id", "loader-ec", "--private-key",
        key.toString(), "--scope", "system/Patient.cu");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("Loaded 3 of 3 resources");
  }

  @Test
  void a_bearer_token_given_as_an_option_or_in_a_file_loads_into_a_protected_server() throws Exception {
    TestClient client = TestClient.rsa("loader-token").registerInline(server, "system/*.cruds");
    String token = client.token(server, "system/Patient.cu");
    Path file = dir.resolve("load.token");
    Files.writeString(file, token + "\n");

    LoadRun given = load(patients("smart-load-token-", 2).toString(), "--token", token);
    LoadRun inFile = load(patients("smart-load-token-file-", 2).toString(), "--token-file", file.toString());

    assertThat(given.exitCode()).as(given.out() + given.err()).isZero();
    assertThat(given.out()).contains("Loaded 2 of 2 resources");
    assertThat(inFile.exitCode()).as(inFile.out() + inFile.err()).isZero();
    assertThat(inFile.out()).contains("Loaded 2 of 2 resources");
  }

  @Test
  void a_token_and_a_smart_client_together_are_refused() throws Exception {
    LoadRun run = load(patients("smart-load-both-", 1).toString(), "--token", "t", "--client-id", "c",
        "--private-key", dir.resolve("absent.pem").toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--token").contains("--client-id");
  }

  @Test
  void without_credentials_the_load_stops_at_the_first_refusal_and_says_why_once() throws Exception {
    LoadRun run = load(patients("smart-load-none-", 5).toString(), "--batch-size", "1", "--concurrency", "1");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).contains("Loaded 0 of 5 resources")
        .contains("Stopped: the server refused this load's credentials (HTTP 401: ")
        .contains("5 resources were not loaded")
        .doesNotContain("failed:");
    assertThat(server.get("Patient?_id=smart-load-none-0,smart-load-none-4", "Authorization",
        "Bearer " + TestClient.rsa("load-none-reader").registerInline(server, "system/*.rs")
            .token(server, "system/Patient.rs")).body()).contains("searchset").doesNotContain("\"entry\"");
  }

  @Test
  void a_client_the_server_does_not_know_stops_before_reading_with_the_servers_reason() throws Exception {
    TestClient stranger = TestClient.rsa("stranger");
    Path key = dir.resolve("stranger.pem");
    Files.writeString(key, pkcs8Pem(stranger));

    LoadRun run = load(patients("smart-load-stranger-", 1).toString(), "--client-id", "stranger", "--private-key",
        key.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("invalid_client");
  }

  /** A clock the test moves. */
  private static final class MovableClock extends Clock {
    private Instant now = Instant.now();

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @Test
  void the_token_source_keeps_its_token_and_gets_a_new_one_before_it_expires() throws Exception {
    TestClient client = TestClient.rsa("renewing").registerInline(server, "system/*.rs");
    MovableClock clock = new MovableClock();
    try (HttpClient http = HttpClient.newHttpClient()) {
      SmartTokenSource source = new SmartTokenSource(new SmartTokenSource.Settings(URI.create(server.base()),
          "renewing", client.key(), "system/Patient.rs"), http, clock);

      String first = source.authorization().orElseThrow();
      assertThat(source.authorization()).contains(first);
      // four fifths of the 10 s lifetime later
      clock.now = clock.now.plus(Duration.ofSeconds(9));
      String second = source.authorization().orElseThrow();

      assertThat(second).isNotEqualTo(first);
      assertThat(server.get("Patient?_count=1", "Authorization", second).statusCode()).isEqualTo(200);
    }
  }
}

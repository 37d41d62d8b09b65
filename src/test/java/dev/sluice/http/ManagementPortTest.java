package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.cli.AuthConfig;
import dev.sluice.cli.EdgeConfig;
import dev.sluice.testing.TestServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --management-port}: probes and metrics on a port of their own, so that the FHIR port
 * can be published without them and a probe needs no token whatever the auth mode.
 */
class ManagementPortTest {
  private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private static TestServer server;
  private static int management;

  @BeforeAll
  static void start() throws Exception {
    management = freePort();
    server = TestServer.start(Files.createTempDirectory("sluice-management"), d -> {
      var config = TestServer.config(d).with(AuthConfig.smart());
      return config.with(config.edge().withManagementPort(OptionalInt.of(management))).validate();
    });
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void health_readiness_and_metrics_answer_on_the_management_port_without_a_token() throws Exception {
    assertThat(get(management, "/health").body()).contains("\"UP\"");
    HttpResponse<String> ready = get(management, "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(200);
    assertThat(ready.body()).contains("\"database\":\"UP\"");
    HttpResponse<String> metrics = get(management, "/metrics");
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("jvm_memory_used_bytes");
  }

  @Test
  void the_fhir_port_no_longer_serves_them_and_the_management_port_serves_nothing_else() throws Exception {
    int fhir = server.app().port();
    assertThat(get(fhir, "/health").statusCode()).isEqualTo(404);
    assertThat(get(fhir, "/metrics").statusCode()).isEqualTo(404);
    assertThat(get(fhir, "/fhir/metadata").statusCode()).isEqualTo(200);
    assertThat(get(fhir, "/fhir/Patient").statusCode()).isEqualTo(401);
    assertThat(get(management, "/fhir/metadata").statusCode()).isEqualTo(404);
    assertThat(get(management, "/fhir/Patient").statusCode()).isEqualTo(404);
  }

  @Test
  void requests_to_the_fhir_port_are_counted_in_the_metrics() throws Exception {
    get(server.app().port(), "/fhir/metadata");

    assertThat(get(management, "/metrics").body()).contains("route=\"/fhir/metadata\"");
  }

  @Test
  void the_management_port_must_differ_from_the_fhir_port() throws Exception {
    var c = TestServer.config(Files.createTempDirectory("sluice-management-same"));
    var same = new dev.sluice.cli.Config(c.host(), 8080, c.dataDir(), c.dbUrl(), c.dbUser(), c.dbPassword(),
        c.dbPoolSize(), c.publicBaseUrl(), c.maxBodyBytes(), c.export(), c.log(), c.auth(),
        c.edge().withManagementPort(OptionalInt.of(8080)), c.importDir());

    assertThatThrownBy(same::validate).hasMessageContaining("--management-port");
  }

  @Test
  void a_management_port_outside_the_range_is_refused() throws Exception {
    var c = TestServer.config(Files.createTempDirectory("sluice-management-range"));

    assertThatThrownBy(() -> c.with(c.edge().withManagementPort(OptionalInt.of(70000))).validate())
        .hasMessageContaining("--management-port");
  }
}

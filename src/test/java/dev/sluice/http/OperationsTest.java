package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class OperationsTest {
  private final TestServer server = TestServer.shared();

  @Test
  void health_reports_the_server_up() {
    HttpResponse<String> r = server.get("/health");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"UP\"");
  }

  @Test
  void metrics_are_prometheus_text_with_request_counts_by_route_jvm_and_pool() {
    server.get("metadata");
    server.get("Patient/nobody-" + System.nanoTime());
    HttpResponse<String> r = server.get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
    assertThat(r.body())
        .containsPattern("sluice_http_requests_seconds_count\\{[^}]*route=\"/fhir/metadata\"[^}]*} [1-9]")
        .containsPattern("sluice_http_requests_seconds_count\\{[^}]*route=\"/fhir/\\{type}/\\{id}\"[^}]*status=\"404\"")
        .contains("jvm_memory_used_bytes")
        .contains("hikaricp_connections_active");
  }
}

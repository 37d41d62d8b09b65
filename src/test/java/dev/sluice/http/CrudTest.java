package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CrudTest {
  private final TestServer server = TestServer.shared();

  private static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  @Test
  void create_assigns_id_and_answers_201_with_location_and_etag() {
    HttpResponse<String> r = server.post("Patient", patient(null, "Chalmers"));
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.headers().firstValue("Location")).hasValueSatisfying(l ->
        assertThat(l).startsWith(server.base() + "/Patient/").endsWith("/_history/1"));
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(r.body()).contains("\"versionId\":\"1\"").contains("\"lastUpdated\"").contains("Chalmers");
  }

  @Test
  void update_creates_with_client_id_then_increments_version() {
    String id = UUID.randomUUID().toString();
    assertThat(server.put("Patient/" + id, patient(id, "A")).statusCode()).isEqualTo(201);
    HttpResponse<String> second = server.put("Patient/" + id, patient(id, "B"));
    assertThat(second.statusCode()).isEqualTo(200);
    assertThat(second.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(server.get("Patient/" + id).body()).contains("\"family\":\"B\"");
    assertThat(server.get("Patient/" + id + "/_history/1").body()).contains("\"family\":\"A\"");
  }

  @Test
  void update_with_stale_if_match_answers_412() {
    String id = UUID.randomUUID().toString();
    server.put("Patient/" + id, patient(id, "A"));
    server.put("Patient/" + id, patient(id, "B"));
    HttpResponse<String> r = server.put("Patient/" + id, patient(id, "C"), "If-Match", "W/\"1\"");
    assertThat(r.statusCode()).isEqualTo(412);
    assertThat(r.body()).contains("OperationOutcome").contains("If-Match");
  }

  @Test
  void read_after_delete_answers_410_and_history_keeps_every_version() {
    String id = UUID.randomUUID().toString();
    server.put("Patient/" + id, patient(id, "A"));
    assertThat(server.delete("Patient/" + id).statusCode()).isEqualTo(204);
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(410);
    String history = server.get("Patient/" + id + "/_history").body();
    assertThat(history).contains("\"method\":\"DELETE\"").contains("\"method\":\"POST\"");
  }

  @Test
  void unknown_element_is_refused_with_400_naming_it() {
    HttpResponse<String> r = server.post("Patient", "{\"resourceType\":\"Patient\",\"foo\":1}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("foo");
  }
}

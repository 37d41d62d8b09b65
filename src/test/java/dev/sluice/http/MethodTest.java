package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.RawHttp;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** HTTP methods and conditional headers: each answer says what the request did, and nothing else. */
class MethodTest {
  private final TestServer server = TestServer.shared();

  private String patient() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> r = server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return id;
  }

  @ParameterizedTest
  @CsvSource({"PATCH,Patient/{id},'GET, PUT, DELETE, HEAD'", "PATCH,Patient,'GET, POST, PUT, DELETE, HEAD'",
      "PUT,_operations/export/x,'GET, DELETE, HEAD'", "DELETE,_operations/export/x/Patient-1.ndjson,'GET, HEAD'",
      "PROPFIND,Patient/{id},'GET, PUT, DELETE, HEAD'"})
  void a_method_the_path_does_not_take_answers_405_with_allow(String method, String path, String allow)
      throws IOException {
    String target = "/fhir/" + path.replace("{id}", patient());
    RawHttp.Response r = RawHttp.exchange(server.app().port(), RawHttp.request(method, target,
        method.equals("DELETE") ? null : "{}".getBytes(), "Content-Type: application/fhir+json"));
    assertThat(r.status()).as(r.text()).isEqualTo(405);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"").contains(method + " is not allowed");
    assertThat(r.header("Allow")).isEqualTo(allow);
  }

  @Test
  void head_of_a_resource_that_does_not_exist_answers_404() {
    HttpResponse<String> r = server.send("HEAD", "Patient/" + UUID.randomUUID(), null);
    assertThat(r.statusCode()).isEqualTo(404);
  }

  @Test
  void head_of_a_resource_answers_as_get_without_the_body() {
    String id = patient();
    HttpResponse<String> r = server.send("HEAD", "Patient/" + id, null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(r.body()).isEmpty();
  }

  @Test
  void head_of_a_search_with_an_unknown_parameter_answers_400() {
    assertThat(server.send("HEAD", "Patient?unknown-parameter=1", null).statusCode()).isEqualTo(400);
  }

  @Test
  void head_of_an_export_kick_off_starts_nothing_and_answers_405() {
    HttpResponse<String> r = server.send("HEAD", "$export?_type=Patient", null, "Accept", "application/fhir+json",
        "Prefer", "respond-async");
    assertThat(r.statusCode()).isEqualTo(405);
    assertThat(r.headers().firstValue("Content-Location")).isEmpty();
  }

  @Test
  void an_update_whose_new_version_matches_if_none_match_answers_200_with_the_resource() {
    String id = patient();
    HttpResponse<String> r = server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id
        + "\",\"gender\":\"male\"}", "If-None-Match", "W/\"2\"");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"gender\":\"male\"");
  }

  @Test
  void a_create_with_if_none_match_answers_201_with_the_resource() {
    HttpResponse<String> r = server.post("Patient", "{\"resourceType\":\"Patient\"}", "If-None-Match", "W/\"1\"");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(r.body()).contains("\"resourceType\":\"Patient\"");
  }

  @Test
  void a_read_whose_version_matches_if_none_match_still_answers_304() {
    String id = patient();
    assertThat(server.get("Patient/" + id, "If-None-Match", "W/\"1\"").statusCode()).isEqualTo(304);
  }
}

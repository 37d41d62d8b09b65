package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Every kind of bad input gets a 4xx OperationOutcome that names the problem; nothing is stored. */
class BadInputTest {
  private final TestServer server = TestServer.shared();

  private static void assertOutcome(HttpResponse<String> r, int status, String... named) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"").contains(named);
  }

  @Test
  void malformed_json_answers_400() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[}"), 400, "Invalid JSON");
  }

  @Test
  void malformed_json_bundle_answers_400_with_the_position() {
    assertOutcome(server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{]}"), 400,
        "Invalid JSON", "column");
  }

  @Test
  void unknown_resource_type_in_the_url_answers_404_naming_it() {
    assertOutcome(server.post("Unicorn", "{\"resourceType\":\"Unicorn\"}"), 404, "Unicorn");
  }

  @Test
  void unknown_resource_type_in_the_body_answers_400_naming_it() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Unicorn\"}"), 400, "Unicorn");
  }

  @Test
  void body_type_other_than_the_url_type_answers_400() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{}}"), 400,
        "Observation", "Patient");
  }

  @Test
  void body_id_other_than_the_url_id_answers_400_and_stores_nothing() {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"other\"}"), 400, "other", id);
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void invalid_id_answers_400_naming_it() {
    assertOutcome(server.put("Patient/bad_id!", "{\"resourceType\":\"Patient\",\"id\":\"bad_id!\"}"), 400, "bad_id!");
    String tooLong = "a".repeat(65);
    assertOutcome(server.get("Patient/" + tooLong), 400, tooLong);
  }

  @Test
  void unknown_element_answers_400_naming_it() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"favouriteColour\":\"blue\"}"), 400,
        "favouriteColour");
  }

  @Test
  void invalid_value_answers_400_naming_it() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"31/12/1999\"}"), 400,
        "31/12/1999");
  }

  @Test
  void an_element_given_twice_answers_400_naming_it() {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("Patient/" + id,
        "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\",\"gender\":\"female\"}"), 400,
        "Duplicate field 'gender'");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void wrong_content_type_answers_415() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\"}", "Content-Type", "application/x-www-form-urlencoded"),
        415, "Content-Type");
  }

  @Test
  void empty_body_answers_400() {
    assertOutcome(server.post("Patient", ""), 400, "empty");
  }

  @Test
  void body_over_the_size_limit_answers_413_naming_the_setting() {
    String big = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "x".repeat(9 * 1024 * 1024) + "\"}]}";
    assertOutcome(server.post("Patient", big), 413, "--max-body-size");
  }

  @Test
  void unknown_route_answers_404_outcome() {
    assertOutcome(server.get("Patient/1/_history/1/extra"), 404, "OperationOutcome");
  }
}

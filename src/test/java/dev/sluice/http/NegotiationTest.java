package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class NegotiationTest {
  private final TestServer server = TestServer.shared();

  private String newPatient() {
    String id = UUID.randomUUID().toString();
    server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"Xu\"}]}");
    return id;
  }

  @Test
  void accept_fhir_xml_answers_xml() {
    HttpResponse<String> r = server.get("Patient/" + newPatient(), "Accept", "application/fhir+xml");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/fhir+xml"));
    assertThat(r.body()).startsWith("<Patient xmlns=\"http://hl7.org/fhir\">").contains("<family value=\"Xu\">");
  }

  @Test
  void format_parameter_beats_the_accept_header() {
    String id = newPatient();
    assertThat(server.get("Patient/" + id + "?_format=xml", "Accept", "application/fhir+json").body()).startsWith("<Patient");
    HttpResponse<String> json = server.get("Patient/" + id + "?_format=json", "Accept", "application/fhir+xml");
    assertThat(json.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/fhir+json"));
    assertThat(json.body()).startsWith("{\"resourceType\":\"Patient\"");
  }

  @Test
  void plain_application_json_is_accepted_both_ways() {
    HttpResponse<String> r = server.post("Patient", "{\"resourceType\":\"Patient\"}", "Content-Type", "application/json",
        "Accept", "application/json");
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).startsWith("{\"resourceType\":\"Patient\"");
  }

  @Test
  void xml_body_is_stored_and_read_back_as_json() {
    String id = UUID.randomUUID().toString();
    String xml = "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"" + id + "\"/><name><family value=\"Ode\"/></name></Patient>";
    HttpResponse<String> r = server.put("Patient/" + id, xml, "Content-Type", "application/fhir+xml");
    assertThat(r.statusCode()).isEqualTo(201);
    assertThat(r.body()).startsWith("{").contains("\"family\":\"Ode\"");
    assertThat(server.get("Patient/" + id).body()).contains("\"family\":\"Ode\"").contains("\"versionId\":\"1\"");
  }

  @Test
  void unsupported_accept_answers_406_with_an_outcome_naming_accept() {
    HttpResponse<String> r = server.get("Patient/" + newPatient(), "Accept", "text/plain");
    assertThat(r.statusCode()).isEqualTo(406);
    assertThat(r.body()).contains("OperationOutcome").contains("Accept");
  }

  @Test
  void unsupported_format_parameter_answers_406_naming_it() {
    HttpResponse<String> r = server.get("Patient/" + newPatient() + "?_format=yaml");
    assertThat(r.statusCode()).isEqualTo(406);
    assertThat(r.body()).contains("OperationOutcome").contains("_format");
  }

  @Test
  void unsupported_content_type_answers_415_naming_it() {
    HttpResponse<String> r = server.post("Patient", "{\"resourceType\":\"Patient\"}", "Content-Type", "text/plain");
    assertThat(r.statusCode()).isEqualTo(415);
    assertThat(r.body()).contains("OperationOutcome").contains("Content-Type");
  }

  @Test
  void metadata_is_a_capability_statement_for_fhir_4_0_1_with_the_interactions_served() {
    HttpResponse<String> r = server.get("metadata");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"resourceType\":\"CapabilityStatement\"").contains("\"fhirVersion\":\"4.0.1\"")
        .contains("\"code\":\"transaction\"").contains("\"code\":\"batch\"").contains("\"code\":\"history-system\"")
        .contains("\"code\":\"vread\"").contains("\"code\":\"history-instance\"").contains("\"code\":\"history-type\"")
        .contains("\"type\":\"Observation\"").contains("application/fhir+xml");
    assertThat(server.get("metadata?_format=xml").body()).contains("<fhirVersion value=\"4.0.1\">");
  }
}

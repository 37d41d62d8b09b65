package dev.sluice.http;

import static dev.sluice.testing.Outcomes.assertOutcome;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Values at the edges of what FHIR's grammar allows (decimals with huge exponents, dates whose
 * instant leaves the years 1 to 9999): a clear 400, or stored and found, never a 500 or a hang.
 */
class ExtremeValueTest {
  private final TestServer server = TestServer.shared();

  private static String observation(String id, String elements) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + elements + "}";
  }

  @ParameterizedTest
  @ValueSource(strings = {"1e-99999", "1e140000", "1e-1001", "1e1001"})
  void a_decimal_of_more_digits_than_the_server_keeps_answers_400_naming_the_element(String value) {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("Observation/" + id, observation(id, "\"valueQuantity\":{\"value\":" + value + "}")),
        400, "Observation.valueQuantity.value");
    assertThat(server.get("Observation/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void a_decimal_with_an_exponent_of_a_billion_answers_400_at_once() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> server.put("Observation/" + id,
        observation(id, "\"valueQuantity\":{\"value\":1e999999999}")));
    assertOutcome(r, 400, "Observation.valueQuantity.value");
  }

  @Test
  void a_decimal_of_more_digits_than_the_server_keeps_in_xml_answers_400() {
    String xml = "<Observation xmlns=\"http://hl7.org/fhir\"><status value=\"final\"/><code><text value=\"x\"/></code>"
        + "<valueQuantity><value value=\"1e-99999\"/></valueQuantity></Observation>";
    assertOutcome(server.post("Observation", xml, "Content-Type", "application/fhir+xml"), 400, "value-quantity");
  }

  @Test
  void a_decimal_number_parameter_of_more_digits_than_the_server_keeps_answers_400() {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("RiskAssessment/" + id, "{\"resourceType\":\"RiskAssessment\",\"id\":\"" + id
        + "\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/x\"},\"prediction\":[{\"probabilityDecimal\":"
        + "1e-99999}]}"), 400, "RiskAssessment.prediction[0].probabilityDecimal");
  }

  @Test
  void a_batch_entry_with_a_decimal_of_more_digits_than_the_server_keeps_fails_alone() {
    String bad = UUID.randomUUID().toString();
    String good = UUID.randomUUID().toString();
    String bundle = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"resource\":" + observation(bad, "\"valueQuantity\":{\"value\":1e-99999}")
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation/" + bad + "\"}},"
        + "{\"resource\":" + observation(good, "\"valueQuantity\":{\"value\":1.5}")
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation/" + good + "\"}}]}";
    HttpResponse<String> r = server.post("", bundle);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"400").contains("\"status\":\"201");
    assertThat(server.get("Observation/" + bad).statusCode()).isEqualTo(404);
    assertThat(server.get("Observation/" + good).statusCode()).isEqualTo(200);
  }

  @ParameterizedTest
  @ValueSource(strings = {"value-quantity=1e-99999", "value-quantity=1e-16383", "value-quantity=ap1e-16383",
      "value-quantity=1e999999999", "value-quantity=1e-1001%7Chttp://unitsofmeasure.org%7Cmg",
      "code-value-quantity=http://loinc.org%7C8867-4%241e-99999"})
  void a_search_number_of_more_digits_than_the_server_keeps_answers_400(String query) {
    String name = query.substring(0, query.indexOf('='));
    assertOutcome(server.get("Observation?" + query), 400, name);
  }

  @Test
  void a_type_filter_number_of_more_digits_than_the_server_keeps_answers_400_at_kick_off() {
    assertOutcome(server.get("$export?_type=Observation&_typeFilter=Observation%3Fvalue-quantity%3D1e-99999",
        "Accept", "application/fhir+json", "Prefer", "respond-async"), 400, "value-quantity");
  }

  @ParameterizedTest
  @ValueSource(strings = {"0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0000-01-01"})
  void a_date_whose_instant_leaves_the_years_1_to_9999_is_stored_and_found(String date) {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> put = server.put("Observation/" + id, observation(id, "\"effectiveDateTime\":\"" + date + "\""));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    String year = date.substring(0, 4);
    String query = year.equals("9999") ? "ge9999-12-31" : "le0001-01-02";
    HttpResponse<String> found = server.get("Observation?_id=" + id + "&date=" + query);
    assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
    assertThat(found.body()).contains("\"id\":\"" + id + "\"");
  }

  @Test
  void a_period_ending_before_the_year_1_is_stored_and_found() {
    String id = UUID.randomUUID().toString();
    HttpResponse<String> put = server.put("Observation/" + id,
        observation(id, "\"effectivePeriod\":{\"start\":\"0000-06-01\",\"end\":\"0001-01-01T00:30:00+14:00\"}"));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    HttpResponse<String> found = server.get("Observation?_id=" + id + "&date=lt0001-01-01");
    assertThat(found.body()).as(found.body()).contains("\"id\":\"" + id + "\"");
  }
}

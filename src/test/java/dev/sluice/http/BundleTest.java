package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class BundleTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestServer server = TestServer.shared();

  private static JsonNode json(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new IllegalStateException(r.body(), e);
    }
  }

  private static String put(String type, String id, String resourceBody) {
    return "{\"resource\":{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\"" + resourceBody + "},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"" + type + "/" + id + "\"}}";
  }

  private static String bundle(String type, String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  @Test
  void transaction_resolves_urn_uuid_references_to_the_ids_it_assigns() {
    String body = bundle("transaction",
        "{\"fullUrl\":\"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a\",\"resource\":{\"resourceType\":\"Patient\","
            + "\"name\":[{\"family\":\"Urn\"}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        "{\"fullUrl\":\"urn:uuid:88f151c0-a954-468a-88d8-9b3d5e3e2f0b\",\"resource\":{\"resourceType\":\"Observation\","
            + "\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a\"}},"
            + "\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}");
    HttpResponse<String> r = server.post("", body);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode answer = json(r);
    assertThat(answer.path("type").asText()).isEqualTo("transaction-response");
    String patientLocation = answer.path("entry").get(0).path("response").path("location").asText();
    assertThat(patientLocation).startsWith("Patient/").endsWith("/_history/1");
    assertThat(answer.path("entry").get(0).path("response").path("status").asText()).isEqualTo("201 Created");
    String patientId = patientLocation.split("/")[1];
    String observation = answer.path("entry").get(1).path("response").path("location").asText().replaceAll("/_history/.*", "");
    assertThat(server.get(observation).body()).contains("\"reference\":\"Patient/" + patientId + "\"");
    assertThat(server.get("Patient/" + patientId).statusCode()).isEqualTo(200);
  }

  private static String observationPost(String fullUrl, String subject) {
    return "{" + (fullUrl == null ? "" : "\"fullUrl\":\"" + fullUrl + "\",") + "\"resource\":{\"resourceType\":"
        + "\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"" + subject + "\"},\"subject\":{\"reference\":\""
        + subject + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}";
  }

  private int observationsAbout(String text) {
    return json(server.get("Observation?code:text=" + java.net.URLEncoder.encode(text,
        java.nio.charset.StandardCharsets.UTF_8))).path("entry").size();
  }

  /** A transaction of one Observation referring to {@code reference}: refused naming both, nothing stored. */
  private void assertReferenceRefused(String reference) {
    HttpResponse<String> r = server.post("", bundle("transaction", observationPost(null, reference)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("Bundle.entry[0]").contains(reference);
    assertThat(observationsAbout(reference)).isZero();
  }

  @Test
  void transaction_with_a_urn_uuid_reference_no_entry_has_answers_400_and_stores_nothing() {
    assertReferenceRefused("urn:uuid:" + UUID.randomUUID());
  }

  @Test
  void transaction_with_two_entries_of_one_full_url_answers_400_and_stores_nothing() {
    String urn = "urn:uuid:" + UUID.randomUUID();
    HttpResponse<String> r = server.post("", bundle("transaction", observationPost(urn, "twice " + urn),
        observationPost(urn, "twice " + urn)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("Bundle.entry[1].fullUrl").contains(urn);
    assertThat(observationsAbout("twice " + urn)).isZero();
  }

  @Test
  void transaction_resolves_a_conditional_reference_to_the_one_match() {
    String id = UUID.randomUUID().toString();
    server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id
        + "\",\"identifier\":[{\"system\":\"urn:test\",\"value\":\"" + id + "\"}]}");
    String reference = "Patient?identifier=urn:test|" + id;
    HttpResponse<String> r = server.post("", bundle("transaction", observationPost(null, reference)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String location = json(r).path("entry").get(0).path("response").path("location").asText();
    assertThat(server.get(location.replaceAll("/_history/.*", "")).body())
        .contains("\"reference\":\"Patient/" + id + "\"");
  }

  @Test
  void transaction_with_a_conditional_reference_that_matches_nothing_answers_400_and_stores_nothing() {
    assertReferenceRefused("Patient?identifier=urn:test|" + UUID.randomUUID());
  }

  @Test
  void transaction_with_a_conditional_reference_of_an_unknown_parameter_answers_400() {
    String reference = "Patient?unknown-parameter=" + UUID.randomUUID();
    HttpResponse<String> r = server.post("", bundle("transaction", observationPost(null, reference)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("unknown-parameter");
    assertThat(observationsAbout(reference)).isZero();
  }

  @Test
  void transaction_with_one_failing_entry_fails_whole_and_stores_nothing() {
    String good = UUID.randomUUID().toString();
    String body = bundle("transaction",
        put("Patient", good, ",\"name\":[{\"family\":\"Kept\"}]"),
        put("Patient", "bad-" + good, ",\"birthDate\":\"not a date\""));
    HttpResponse<String> r = server.post("", body);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("Bundle.entry[1]").contains("nothing of it was stored");
    assertThat(server.get("Patient/" + good).statusCode()).isEqualTo(404);
  }

  @Test
  void transaction_that_fails_in_the_database_stores_nothing() {
    String good = UUID.randomUUID().toString();
    String stale = UUID.randomUUID().toString();
    server.put("Patient/" + stale, "{\"resourceType\":\"Patient\",\"id\":\"" + stale + "\"}");
    String body = bundle("transaction",
        put("Patient", good, ""),
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + stale + "\"},"
            + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + stale + "\",\"ifMatch\":\"W/\\\"7\\\"\"}}");
    HttpResponse<String> r = server.post("", body);
    assertThat(r.statusCode()).isEqualTo(412);
    assertThat(server.get("Patient/" + good).statusCode()).isEqualTo(404);
    assertThat(server.get("Patient/" + stale).headers().firstValue("ETag")).hasValue("W/\"1\"");
  }

  @Test
  void batch_stores_the_good_entries_and_reports_each_failing_one_alone() {
    String a = UUID.randomUUID().toString();
    String b = UUID.randomUUID().toString();
    String body = bundle("batch",
        put("Patient", a, ""),
        put("Patient", "x-" + a, ",\"unknownThing\":true"),
        "{\"request\":{\"method\":\"GET\",\"url\":\"Patient/does-not-exist-" + a + "\"}}",
        put("Patient", b, ""));
    HttpResponse<String> r = server.post("", body);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonNode entries = json(r).path("entry");
    assertThat(json(r).path("type").asText()).isEqualTo("batch-response");
    assertThat(entries.get(0).path("response").path("status").asText()).isEqualTo("201 Created");
    assertThat(entries.get(1).path("response").path("status").asText()).isEqualTo("400 Bad Request");
    assertThat(entries.get(1).path("response").path("outcome").toString()).contains("unknownThing");
    assertThat(entries.get(2).path("response").path("status").asText()).isEqualTo("404 Not Found");
    assertThat(entries.get(3).path("response").path("status").asText()).isEqualTo("201 Created");
    assertThat(server.get("Patient/" + a).statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/" + b).statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/x-" + a).statusCode()).isEqualTo(404);
  }

  @Test
  void batch_of_puts_updates_existing_resources_and_keeps_every_version() {
    String a = UUID.randomUUID().toString();
    server.put("Patient/" + a, "{\"resourceType\":\"Patient\",\"id\":\"" + a + "\",\"gender\":\"male\"}");
    HttpResponse<String> r = server.post("", bundle("batch", put("Patient", a, ",\"gender\":\"female\"")),
        "Prefer", "return=minimal");
    JsonNode entry = json(r).path("entry").get(0);
    assertThat(entry.path("response").path("status").asText()).isEqualTo("200 OK");
    assertThat(entry.path("response").path("etag").asText()).isEqualTo("W/\"2\"");
    assertThat(entry.has("resource")).isFalse();
    assertThat(server.get("Patient/" + a).body()).contains("female");
    assertThat(server.get("Patient/" + a + "/_history/1").body()).contains("\"gender\":\"male\"");
  }

  @Test
  void bundle_of_another_type_answers_400_naming_bundle_type() {
    HttpResponse<String> r = server.post("", bundle("collection"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("Bundle.type");
  }
}

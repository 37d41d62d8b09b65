package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Conditional create, update and delete: single requests and batch/transaction entries (FHIR R4 http.html). */
class ConditionalTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String URN = "urn:uuid:0d7b5c1e-8a43-4f0e-9a55-3f1c2b7d9e10";
  private final TestServer server = TestServer.shared();
  /** Each test's own identifier value, so that the shared server's other data never matches. */
  private final String mark = UUID.randomUUID().toString();

  private static JsonNode json(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new IllegalStateException(r.body(), e);
    }
  }

  private static String bundle(String type, String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  private String patient(String value) {
    return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:cond\",\"value\":\"" + value + "\"}]}";
  }

  /** Criteria as a URL query (the | escaped) selecting the patients with {@code value}. */
  private static String byIdentifier(String value) {
    return "identifier=urn:cond%7C" + value;
  }

  private String storePatient(String value) {
    HttpResponse<String> r = server.post("Patient", patient(value));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return json(r).path("id").asText();
  }

  private List<String> patientIds(String value) {
    HttpResponse<String> r = server.get("Patient?" + byIdentifier(value));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    json(r).path("entry").forEach(e -> ids.add(e.path("resource").path("id").asText()));
    return ids;
  }

  private String conditionalCreate(String fullUrl, String value) {
    return "{\"fullUrl\":\"" + fullUrl + "\",\"resource\":" + patient(value) + ",\"request\":{\"method\":\"POST\","
        + "\"url\":\"Patient\",\"ifNoneExist\":\"identifier=urn:cond|" + value + "\"}}";
  }

  private static String observationOf(String subject) {
    return "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"" + subject + "\"}},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}";
  }

  private static JsonNode response(JsonNode bundle, int entry) {
    return bundle.path("entry").get(entry).path("response");
  }

  private String subjectOfCreatedObservation(JsonNode bundle, int entry) {
    String location = response(bundle, entry).path("location").asText().replaceAll("/_history/.*", "");
    return json(server.get(location)).path("subject").path("reference").asText();
  }

  @Test
  void transaction_conditional_create_that_matches_points_urn_references_at_the_existing_resource() {
    String existing = storePatient(mark);
    HttpResponse<String> r = server.post("", bundle("transaction", conditionalCreate(URN, mark), observationOf(URN)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = json(r);
    assertThat(response(answer, 0).path("status").asText()).isEqualTo("200 OK");
    assertThat(response(answer, 0).path("location").asText()).isEqualTo("Patient/" + existing + "/_history/1");
    assertThat(response(answer, 0).path("etag").asText()).isEqualTo("W/\"1\"");
    assertThat(response(answer, 1).path("status").asText()).isEqualTo("201 Created");
    assertThat(subjectOfCreatedObservation(answer, 1)).isEqualTo("Patient/" + existing);
    assertThat(patientIds(mark)).containsExactly(existing);
  }

  @Test
  void transaction_conditional_create_without_a_match_creates_and_points_urn_references_at_the_new_resource() {
    HttpResponse<String> r = server.post("", bundle("transaction", observationOf(URN), conditionalCreate(URN, mark)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = json(r);
    assertThat(response(answer, 1).path("status").asText()).isEqualTo("201 Created");
    String created = response(answer, 1).path("location").asText().split("/")[1];
    assertThat(patientIds(mark)).containsExactly(created);
    assertThat(subjectOfCreatedObservation(answer, 0)).isEqualTo("Patient/" + created);
  }

  @Test
  void transaction_with_two_conditional_creates_of_the_same_criteria_creates_once() {
    String second = "urn:uuid:" + UUID.randomUUID();
    HttpResponse<String> r = server.post("", bundle("transaction",
        conditionalCreate(URN, mark), observationOf(URN), conditionalCreate(second, mark), observationOf(second)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = json(r);
    assertThat(patientIds(mark)).hasSize(1);
    String created = patientIds(mark).getFirst();
    assertThat(response(answer, 0).path("status").asText()).isEqualTo("201 Created");
    assertThat(response(answer, 2).path("status").asText()).isEqualTo("200 OK");
    assertThat(response(answer, 2).path("location").asText()).isEqualTo("Patient/" + created + "/_history/1");
    assertThat(subjectOfCreatedObservation(answer, 1)).isEqualTo("Patient/" + created);
    assertThat(subjectOfCreatedObservation(answer, 3)).isEqualTo("Patient/" + created);
  }

  @Test
  void transaction_conditional_create_matching_several_fails_whole_with_412_and_stores_nothing() {
    storePatient(mark);
    storePatient(mark);
    String other = UUID.randomUUID().toString();
    HttpResponse<String> r = server.post("", bundle("transaction",
        "{\"resource\":" + patient(other) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        conditionalCreate(URN, mark)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(412);
    assertThat(r.body()).contains("OperationOutcome").contains("Bundle.entry[1].request.ifNoneExist")
        .contains("nothing of it was stored");
    assertThat(patientIds(other)).isEmpty();
    assertThat(patientIds(mark)).hasSize(2);
  }

  @Test
  void batch_conditional_create_matching_several_fails_alone_with_412() {
    storePatient(mark);
    storePatient(mark);
    String other = UUID.randomUUID().toString();
    String fresh = UUID.randomUUID().toString();
    HttpResponse<String> r = server.post("", bundle("batch",
        conditionalCreate(URN, mark),
        "{\"resource\":" + patient(other) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
        conditionalCreate("urn:uuid:" + UUID.randomUUID(), fresh)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = json(r);
    assertThat(response(answer, 0).path("status").asText()).isEqualTo("412 Precondition Failed");
    assertThat(response(answer, 0).path("outcome").toString()).contains("matches more than one Patient");
    assertThat(response(answer, 1).path("status").asText()).isEqualTo("201 Created");
    assertThat(response(answer, 2).path("status").asText()).isEqualTo("201 Created");
    assertThat(patientIds(other)).hasSize(1);
    assertThat(patientIds(fresh)).hasSize(1);
    assertThat(patientIds(mark)).hasSize(2);
  }

  @Test
  void batch_conditional_create_twice_creates_once_and_then_answers_200_with_the_same_resource() {
    HttpResponse<String> first = server.post("", bundle("batch", conditionalCreate(URN, mark)));
    // the criteria also as a search URL with its type, as some clients send them
    HttpResponse<String> second = server.post("", bundle("batch",
        conditionalCreate(URN, mark).replace("\"ifNoneExist\":\"", "\"ifNoneExist\":\"Patient?")),
        "Prefer", "return=minimal");
    assertThat(response(json(first), 0).path("status").asText()).isEqualTo("201 Created");
    assertThat(response(json(second), 0).path("status").asText()).isEqualTo("200 OK");
    assertThat(response(json(second), 0).path("location").asText())
        .isEqualTo(response(json(first), 0).path("location").asText());
    assertThat(json(second).path("entry").get(0).has("resource")).isFalse();
    assertThat(patientIds(mark)).hasSize(1);
  }

  @Test
  void conditional_create_with_an_unknown_search_parameter_answers_400_naming_it() {
    String entry = "{\"resource\":" + patient(mark) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
        + "\"ifNoneExist\":\"colour=red\"}}";
    HttpResponse<String> transaction = server.post("", bundle("transaction", entry));
    assertThat(transaction.statusCode()).as(transaction.body()).isEqualTo(400);
    assertThat(transaction.body()).contains("colour").contains("Bundle.entry[0].request.ifNoneExist");
    HttpResponse<String> batch = server.post("", bundle("batch", entry));
    assertThat(response(json(batch), 0).path("status").asText()).isEqualTo("400 Bad Request");
    assertThat(response(json(batch), 0).path("outcome").toString()).contains("colour");
    String empty = "{\"resource\":" + patient(mark) + ",\"request\":{\"method\":\"POST\",\"url\":\"Patient\","
        + "\"ifNoneExist\":\"\"}}";
    HttpResponse<String> none = server.post("", bundle("transaction", empty));
    assertThat(none.statusCode()).isEqualTo(400);
    assertThat(none.body()).contains("at least one search criterion");
    assertThat(patientIds(mark)).isEmpty();
  }

  @Test
  void conditional_update_creates_without_a_match_updates_the_one_match_and_refuses_several() {
    String body = patient(mark).replace("}]}", "}],\"gender\":\"%s\"}");
    HttpResponse<String> created = server.put("Patient?" + byIdentifier(mark), body.formatted("male"));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String id = json(created).path("id").asText();
    HttpResponse<String> updated = server.put("Patient?" + byIdentifier(mark), body.formatted("female"));
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(updated.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(json(server.get("Patient/" + id)).path("gender").asText()).isEqualTo("female");

    String otherId = body.formatted("other").replace("{\"resourceType\":\"Patient\",",
        "{\"resourceType\":\"Patient\",\"id\":\"not-" + id.substring(0, 20) + "\",");
    HttpResponse<String> wrongId = server.put("Patient?" + byIdentifier(mark), otherId);
    assertThat(wrongId.statusCode()).as(wrongId.body()).isEqualTo(400);
    assertThat(wrongId.body()).contains("Patient.id");

    storePatient(mark);
    HttpResponse<String> several = server.put("Patient?" + byIdentifier(mark), body.formatted("unknown"));
    assertThat(several.statusCode()).as(several.body()).isEqualTo(412);
    assertThat(json(server.get("Patient/" + id)).path("gender").asText()).isEqualTo("female");
  }

  @Test
  void conditional_update_without_a_match_uses_the_body_id_unless_it_names_another_live_resource() {
    String id = "cu-" + mark.substring(0, 30);
    String body = patient(mark).replace("{\"resourceType\":\"Patient\",", "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",");
    HttpResponse<String> created = server.put("Patient?" + byIdentifier(mark), body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(json(created).path("id").asText()).isEqualTo(id);

    String other = UUID.randomUUID().toString();
    HttpResponse<String> clash = server.put("Patient?" + byIdentifier(other), body.replace(mark, other));
    assertThat(clash.statusCode()).as(clash.body()).isEqualTo(409);
    assertThat(json(server.get("Patient/" + id)).path("identifier").get(0).path("value").asText()).isEqualTo(mark);
  }

  @Test
  void transaction_conditional_update_resolves_its_full_url_to_the_matched_resource() {
    String existing = storePatient(mark);
    String update = "{\"fullUrl\":\"" + URN + "\",\"resource\":" + patient(mark).replace("}]}", "}],\"gender\":\"female\"}")
        + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient?identifier=urn:cond|" + mark + "\"}}";
    HttpResponse<String> r = server.post("", bundle("transaction", update, observationOf(URN)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode answer = json(r);
    assertThat(response(answer, 0).path("status").asText()).isEqualTo("200 OK");
    assertThat(response(answer, 0).path("location").asText()).isEqualTo("Patient/" + existing + "/_history/2");
    assertThat(subjectOfCreatedObservation(answer, 1)).isEqualTo("Patient/" + existing);
    assertThat(json(server.get("Patient/" + existing)).path("gender").asText()).isEqualTo("female");
  }

  @Test
  void conditional_delete_deletes_the_one_match_answers_204_without_one_and_412_with_several() {
    String id = storePatient(mark);
    HttpResponse<String> deleted = server.delete("Patient?" + byIdentifier(mark));
    assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(204);
    assertThat(deleted.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(410);
    assertThat(server.delete("Patient?" + byIdentifier(mark)).statusCode()).isEqualTo(204);

    String a = storePatient(mark);
    String b = storePatient(mark);
    HttpResponse<String> several = server.delete("Patient?" + byIdentifier(mark));
    assertThat(several.statusCode()).as(several.body()).isEqualTo(412);
    assertThat(several.body()).contains("OperationOutcome").contains("more than one Patient");
    assertThat(patientIds(mark)).containsExactlyInAnyOrder(a, b);
  }

  @Test
  void conditional_delete_without_criteria_answers_400_and_deletes_nothing() {
    String id = storePatient(mark);
    HttpResponse<String> r = server.delete("Patient");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("at least one search criterion");
    HttpResponse<String> paging = server.delete("Patient?_count=5");
    assertThat(paging.statusCode()).isEqualTo(400);
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void batch_conditional_delete_deletes_the_match_and_answers_204_for_no_match() {
    String id = storePatient(mark);
    String none = UUID.randomUUID().toString();
    HttpResponse<String> r = server.post("", bundle("batch",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?identifier=urn:cond|" + mark + "\"}}",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?identifier=urn:cond|" + none + "\"}}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(response(json(r), 0).path("status").asText()).isEqualTo("204 No Content");
    assertThat(response(json(r), 0).path("etag").asText()).isEqualTo("W/\"2\"");
    assertThat(response(json(r), 1).path("status").asText()).isEqualTo("204 No Content");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(410);
  }

  @Test
  void transaction_whose_conditional_delete_and_update_touch_one_resource_fails_with_400() {
    String id = storePatient(mark);
    HttpResponse<String> r = server.post("", bundle("transaction",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?identifier=urn:cond|" + mark + "\"}}",
        "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"},"
            + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id + "\"}}"));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("Bundle.entry[1]").contains("Patient/" + id).contains("Bundle.entry[0]");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void transaction_whose_conditional_create_matches_the_resource_it_deletes_fails_with_400() {
    String id = storePatient(mark);
    HttpResponse<String> r = server.post("", bundle("transaction",
        "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/" + id + "\"}}",
        conditionalCreate(URN, mark), observationOf(URN)));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("Bundle.entry[1] matches Patient/" + id).contains("Bundle.entry[0] deletes");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void search_entries_in_bundles_answer_400_not_supported() {
    HttpResponse<String> r = server.post("", bundle("transaction",
        "{\"request\":{\"method\":\"GET\",\"url\":\"Patient?identifier=urn:cond|" + mark + "\"}}"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("not supported").contains("Bundle.entry[0].request.url");
  }

  @Test
  void capability_statement_declares_conditional_create_update_and_single_delete() {
    JsonNode patient = null;
    for (JsonNode r : json(server.get("metadata")).path("rest").get(0).path("resource")) {
      if (r.path("type").asText().equals("Patient")) {
        patient = r;
      }
    }
    assertThat(patient).isNotNull();
    assertThat(patient.path("conditionalCreate").asBoolean()).isTrue();
    assertThat(patient.path("conditionalUpdate").asBoolean()).isTrue();
    assertThat(patient.path("conditionalDelete").asText()).isEqualTo("single");
    assertThat(patient.path("conditionalRead").asText()).isEqualTo("not-supported");
  }
}

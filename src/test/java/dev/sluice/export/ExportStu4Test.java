package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * STU4's ballot forms at kick-off (POST Parameters with repeated values,
 * {@code includeAssociatedData} as a Coding), STU4's manifest on request, the parameters
 * this server does not apply, and the CapabilityStatement that declares them all.
 */
class ExportStu4Test {
  private static final String[] LENIENT = {"Accept", "application/fhir+json", "Prefer",
      "respond-async, handling=lenient"};
  private static final String ASSOCIATED = "http://hl7.org/fhir/uv/bulkdata/CodeSystem/include-associated-data";

  private final ExportClient client = ExportFixture.client();
  private final Map<String, List<String>> loaded = ExportFixture.loaded();

  private static String parameters(String... parameters) {
    return "{\"resourceType\":\"Parameters\",\"parameter\":[" + String.join(",", parameters) + "]}";
  }

  /**
   * The whole manifest: with {@code allowPartialManifests} the status URL answers its first page,
   * which holds only the files done by the first poll that found any, so every {@code next} page
   * is followed and its outputs added.
   */
  private JsonNode manifest(HttpResponse<String> kickOff) {
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    HttpResponse<String> done = client.await(kickOff.headers().firstValue("Content-Location").orElseThrow());
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    ObjectNode whole = (ObjectNode) ExportClient.read(done.body());
    JsonNode page = whole;
    while (page.has("link") && page.get("link").size() > 0) {
      assertThat(page.get("link").get(0).get("relation").asText()).isEqualTo("next");
      HttpResponse<String> next = client.await(page.get("link").get(0).get("url").asText());
      assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
      page = ExportClient.read(next.body());
      for (String array : List.of("output", "error", "deleted")) {
        if (page.has(array)) {
          whole.withArray(array).addAll((ArrayNode) page.get(array));
        }
      }
    }
    return whole;
  }

  @Test
  void post_parameters_with_repeated_values_of_stu4_types_kick_off() {
    List<String> patients = loaded.get("Patient").stream().limit(2).map(ExportClient::id).toList();
    JsonNode manifest = manifest(client.post("Patient/$export", parameters(
        "{\"name\":\"_type\",\"valueCode\":\"Patient\"}",
        "{\"name\":\"_type\",\"valueCode\":\"Immunization\"}",
        "{\"name\":\"_typeFilter\",\"valueString\":\"Immunization?status=completed\"}",
        "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/" + patients.get(0) + "\"}}",
        "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/" + patients.get(1) + "\"}}",
        "{\"name\":\"_since\",\"valueInstant\":\"2000-01-01T00:00:00Z\"}",
        "{\"name\":\"allowPartialManifests\",\"valueBoolean\":true}"), ExportClient.ASYNC));
    assertThat(client.lines(manifest, "output", "Patient").stream().map(ExportClient::id))
        .containsExactlyInAnyOrderElementsOf(patients);
    long immunizations = loaded.get("Immunization").stream().map(ExportClient::read)
        .filter(i -> i.get("status").asText().equals("completed")
            && patients.stream().anyMatch(p -> i.get("patient").get("reference").asText().endsWith(p)))
        .count();
    assertThat(immunizations).isPositive();
    assertThat(ExportClient.counts(manifest)).containsOnlyKeys("Patient", "Immunization")
        .containsEntry("Immunization", immunizations);
  }

  @Test
  void include_associated_data_as_a_coding_of_an_unknown_code_is_refused_naming_it_unless_lenient() {
    String body = parameters("{\"name\":\"_type\",\"valueString\":\"Patient\"}",
        "{\"name\":\"includeAssociatedData\",\"valueCoding\":{\"system\":\"" + ASSOCIATED
            + "\",\"code\":\"AllProvenanceEver\"}}");
    HttpResponse<String> strict = client.post("$export", body, ExportClient.ASYNC);
    assertThat(strict.statusCode()).as(strict.body()).isEqualTo(400);
    assertThat(strict.body()).contains("OperationOutcome").contains("includeAssociatedData")
        .contains("AllProvenanceEver").contains("not-supported");
    JsonNode manifest = manifest(client.post("$export", body, LENIENT));
    assertThat(ExportClient.counts(manifest)).containsEntry("Patient", (long) loaded.get("Patient").size());
    assertThat(client.lines(manifest, "error", "OperationOutcome")).singleElement().asString()
        .contains("includeAssociatedData").contains("AllProvenanceEver").contains("\"warning\"");
  }

  @Test
  void include_associated_data_latest_provenance_as_a_coding_kicks_off() {
    JsonNode manifest = manifest(client.post("$export", parameters("{\"name\":\"_type\",\"valueString\":\"Patient\"}",
        "{\"name\":\"includeAssociatedData\",\"valueCoding\":{\"system\":\"" + ASSOCIATED
            + "\",\"code\":\"LatestProvenanceResources\"}}"), ExportClient.ASYNC));
    // the fixture holds no Provenance
    assertThat(ExportClient.counts(manifest)).containsOnlyKeys("Patient");
  }

  @Test
  void include_associated_data_history_as_a_coding_writes_the_earlier_versions() {
    String first = "{\"resourceType\":\"Basic\",\"id\":\"stu4-h\",\"code\":{\"text\":\"one\"}}";
    client.put("Basic/stu4-h", first);
    client.put("Basic/stu4-h", first.replace("one", "two"));
    JsonNode manifest = manifest(client.post("$export", parameters("{\"name\":\"_type\",\"valueString\":\"Basic\"}",
        "{\"name\":\"includeAssociatedData\",\"valueCoding\":{\"system\":\"" + ASSOCIATED + "\",\"code\":\"_history\"}}"),
        ExportClient.ASYNC));
    List<String> history = new java.util.ArrayList<>();
    for (JsonNode f : manifest.get("output")) {
      if (f.get("url").asText().matches(".*/Basic-history-[0-9]+\\.ndjson")) {
        history.addAll(client.download(f.get("url").asText()));
      }
    }
    assertThat(history).filteredOn(l -> ExportClient.id(l).equals("stu4-h")).singleElement().asString()
        .contains("\"versionId\":\"1\"").contains("\"text\":\"one\"");
  }

  @Test
  void include_associated_data_of_another_code_system_is_a_400() {
    HttpResponse<String> r = client.post("$export", parameters(
        "{\"name\":\"includeAssociatedData\",\"valueCoding\":{\"system\":\"http://example.org/x\",\"code\":\"_mine\"}}"),
        LENIENT);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("http://example.org/x");
  }

  @Test
  void organize_output_by_at_system_level_is_refused_and_allow_partial_manifests_must_be_a_boolean() {
    HttpResponse<String> organize = client.kickOff("$export?organizeOutputBy=Patient");
    assertThat(organize.statusCode()).isEqualTo(400);
    assertThat(organize.body()).contains("organizeOutputBy").contains("not-supported");
    HttpResponse<String> partial = client.kickOff("$export?allowPartialManifests=maybe");
    assertThat(partial.statusCode()).isEqualTo(400);
    assertThat(partial.body()).contains("allowPartialManifests");
    assertThat(client.kickOff("$export?_type=Patient&allowPartialManifests=true").statusCode()).isEqualTo(202);
  }

  @Test
  void stu4_manifest_is_given_when_the_kick_off_prefers_it() {
    HttpResponse<String> r = client.kickOff("Patient/$export?_type=Patient&_foo=1", "Accept", "application/fhir+json",
        "Prefer", "respond-async, handling=lenient, bulk-manifest=stu4");
    assertThat(r.headers().allValues("Preference-Applied").toString()).contains("bulk-manifest=stu4");
    JsonNode stu4 = manifest(r);
    assertThat(stu4.get("manifestType").asText())
        .isEqualTo("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export");
    assertThat(stu4.get("outputFormat").asText()).isEqualTo("application/fhir+ndjson");
    assertThat(stu4.has("error")).isFalse();
    assertThat(client.lines(stu4, "outcome", "OperationOutcome")).singleElement().asString().contains("_foo");
    assertThat(ExportClient.counts(stu4)).containsEntry("Patient", (long) loaded.get("Patient").size());

    JsonNode stu3 = client.manifest("Patient/$export?_type=Patient");
    assertThat(stu3.has("manifestType")).isFalse();
    assertThat(stu3.has("outcome")).isFalse();
    assertThat(stu3.has("error")).isTrue();
  }

  @Test
  void capability_statement_documents_every_parameter_and_preference() {
    JsonNode rest = ExportClient.read(client.get("metadata").body()).get("rest").get(0);
    String documentation = rest.get("operation").toString();
    for (String name : List.of("_outputFormat", "_since", "_until", "_till", "_type", "_typeFilter", "_elements",
        "_container", "patient", "_anonymizationConfig", "_anonymizationConfigEtag", "includeAssociatedData",
        "organizeOutputBy", "allowPartialManifests", "handling=lenient", "separate-export-status",
        "bulk-manifest=stu4")) {
      assertThat(documentation).as(name).contains(name);
    }
  }
}

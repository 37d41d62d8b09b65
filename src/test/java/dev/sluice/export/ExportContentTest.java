package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

class ExportContentTest {
  private final ExportClient client = ExportFixture.client();
  private final Map<String, List<String>> loaded = ExportFixture.loaded();

  private static Set<String> ids(List<String> lines) {
    return lines.stream().map(ExportClient::id).collect(Collectors.toSet());
  }

  @Test
  void system_export_writes_every_loaded_resource_once_and_its_stored_bytes() {
    JsonNode manifest = client.manifest("$export?_type=" + String.join(",", ExportClient.SMALL_TYPES));
    for (String type : ExportClient.SMALL_TYPES) {
      List<String> lines = client.lines(manifest, "output", type);
      assertThat(lines).as(type).hasSize(loaded.get(type).size());
      assertThat(ids(lines)).as(type).isEqualTo(ids(loaded.get(type)));
      assertThat(ExportClient.counts(manifest).get(type)).isEqualTo(loaded.get(type).size());
    }
    // the bytes are those a read returns: stored as served, not re-serialised
    for (String line : client.lines(manifest, "output", "Patient")) {
      assertThat(client.get("Patient/" + ExportClient.id(line)).body()).isEqualTo(line);
    }
  }

  @Test
  void files_are_named_by_type_and_roll_over_at_the_resource_limit() {
    JsonNode manifest = client.manifest("$export?_type=Observation");
    List<JsonNode> files = manifest.findParents("url");
    assertThat(files).hasSizeGreaterThanOrEqualTo(4);
    for (JsonNode f : manifest.get("output")) {
      assertThat(f.get("url").asText()).matches(".*/Observation-[0-9]+\\.ndjson");
      assertThat(f.get("count").asLong()).isBetween(1L, ExportFixture.MAX_FILE_RESOURCES);
    }
    assertThat(ExportClient.counts(manifest)).containsExactly(Map.entry("Observation", 1754L));
  }

  @Test
  void manifest_carries_the_fields_of_the_guide_and_an_expires_header() {
    String status = client.start("$export?_type=Patient");
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).isEqualTo(200);
    assertThat(done.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    assertThat(done.headers().firstValue("Expires")).isPresent();
    JsonNode m = ExportClient.read(done.body());
    assertThat(m.get("transactionTime").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(m.get("request").asText()).isEqualTo(client.base() + "/$export?_type=Patient");
    assertThat(m.get("requiresAccessToken").asBoolean()).isFalse();
    assertThat(m.get("error")).isEmpty();
    assertThat(m.has("deleted")).isFalse();
    assertThat(m.get("output").get(0).get("url").asText()).startsWith(client.base() + "/_operations/export/");
  }

  @Test
  void files_download_as_fhir_ndjson_gzipped_on_request_and_by_byte_range() throws Exception {
    JsonNode m = client.manifest("$export?_type=Claim");
    String url = m.get("output").get(0).get("url").asText();
    HttpResponse<String> plain = client.fetch(url);
    assertThat(plain.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/fhir+ndjson"));
    HttpResponse<byte[]> gz = client.http().send(HttpRequest.newBuilder(URI.create(url))
        .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
    String unzipped = new String(new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes(), StandardCharsets.UTF_8);
    assertThat(unzipped).isEqualTo(plain.body());
    HttpResponse<String> range = client.fetch(url, "Range", "bytes=10-19");
    assertThat(range.statusCode()).isEqualTo(206);
    assertThat(range.body()).isEqualTo(plain.body().substring(10, 20));
  }

  @Test
  void gzip_downloads_are_compressed_once_and_served_with_their_length_ranges_stay_plain() throws Exception {
    JsonNode m = client.manifest("$export?_type=Observation");
    String url = m.get("output").get(0).get("url").asText();
    HttpResponse<byte[]> plain = gzip(url, "identity");
    assertThat(plain.headers().firstValue("Content-Length")).hasValue(Integer.toString(plain.body().length));
    assertThat(plain.headers().firstValue("Vary")).hasValue("Accept-Encoding");
    HttpResponse<byte[]> first = gzip(url, "gzip, deflate");
    HttpResponse<byte[]> again = gzip(url, "br;q=1.0, gzip;q=0.8");
    for (HttpResponse<byte[]> gz : List.of(first, again)) {
      assertThat(gz.statusCode()).isEqualTo(200);
      assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
      assertThat(gz.headers().firstValue("Content-Length")).hasValue(Integer.toString(gz.body().length));
      assertThat(new GZIPInputStream(new ByteArrayInputStream(gz.body())).readAllBytes()).isEqualTo(plain.body());
    }
    assertThat(again.body()).as("the same copy").isEqualTo(first.body());
    HttpResponse<byte[]> refused = gzip(url, "gzip;q=0, identity");
    assertThat(refused.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(refused.body()).isEqualTo(plain.body());
    // a range is of the plain bytes, whatever the client accepts
    int size = plain.body().length;
    HttpResponse<byte[]> tail = client.http().send(HttpRequest.newBuilder(URI.create(url)).header("Accept-Encoding", "gzip")
        .header("Range", "bytes=" + (size - 1000) + "-").build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(tail.statusCode()).isEqualTo(206);
    assertThat(tail.headers().firstValue("Content-Encoding")).isEmpty();
    assertThat(tail.headers().firstValue("Content-Range")).hasValue("bytes " + (size - 1000) + "-" + (size - 1) + "/" + size);
    assertThat(tail.body()).isEqualTo(java.util.Arrays.copyOfRange(plain.body(), size - 1000, size));
    assertThat(client.fetch(url, "Range", "bytes=-7").body())
        .isEqualTo(new String(plain.body(), size - 7, 7, StandardCharsets.UTF_8));
    assertThat(client.fetch(url, "Range", "bytes=3-3").body()).isEqualTo(new String(plain.body(), 3, 1, StandardCharsets.UTF_8));
  }

  private HttpResponse<byte[]> gzip(String url, String acceptEncoding) throws Exception {
    return client.http().send(HttpRequest.newBuilder(URI.create(url)).header("Accept-Encoding", acceptEncoding).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  @Test
  void patient_level_exports_the_compartments_and_the_patients_but_not_organizations() {
    JsonNode m = client.manifest("Patient/$export");
    Map<String, Long> counts = ExportClient.counts(m);
    assertThat(counts).doesNotContainKeys("Organization", "Practitioner");
    for (String type : ExportClient.SMALL_TYPES) {
      if (!type.equals("Organization") && !type.equals("Practitioner")) {
        assertThat(counts.get(type)).as(type).isGreaterThanOrEqualTo(loaded.get(type).size());
      }
    }
    assertThat(ids(client.lines(m, "output", "Patient"))).containsAll(ids(loaded.get("Patient")));
  }

  @Test
  void group_level_exports_active_members_and_nested_groups_once_each() {
    List<String> patients = loaded.get("Patient").stream().map(ExportClient::id).sorted().toList();
    String a = patients.get(0);
    String b = patients.get(1);
    String inactive = patients.get(2);
    String ended = patients.get(3);
    String nested = patients.get(4);
    client.put("Group/inner", "{\"resourceType\":\"Group\",\"id\":\"inner\",\"type\":\"person\",\"actual\":true,"
        + "\"member\":[{\"entity\":{\"reference\":\"Patient/" + nested + "\"}},{\"entity\":{\"reference\":\"Group/outer\"}}]}");
    client.put("Group/outer", "{\"resourceType\":\"Group\",\"id\":\"outer\",\"type\":\"person\",\"actual\":true,\"member\":["
        + "{\"entity\":{\"reference\":\"Patient/" + a + "\"}},{\"entity\":{\"reference\":\"Patient/" + b + "\"}},"
        + "{\"entity\":{\"reference\":\"Patient/" + inactive + "\"},\"inactive\":true},"
        + "{\"entity\":{\"reference\":\"Patient/" + ended + "\"},\"period\":{\"end\":\"2001-01-01T00:00:00Z\"}},"
        + "{\"entity\":{\"reference\":\"Group/inner\"}}]}");
    // one resource in the compartments of two members
    client.put("Basic/shared-" + a, "{\"resourceType\":\"Basic\",\"id\":\"shared-" + a + "\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + a + "\"},\"author\":{\"reference\":\"Patient/" + b + "\"}}");
    JsonNode m = client.manifest("Group/outer/$export");
    Set<String> members = Set.of(a, b, nested);
    assertThat(ids(client.lines(m, "output", "Patient"))).isEqualTo(members);
    assertThat(client.lines(m, "output", "Basic")).hasSize(1);
    for (String type : List.of("Observation", "Encounter", "Claim")) {
      List<String> expected = loaded.get(type).stream()
          .filter(l -> members.stream().anyMatch(p -> l.contains("Patient/" + p + "\""))).toList();
      List<String> lines = client.lines(m, "output", type);
      assertThat(lines).as(type).hasSize(expected.size());
      assertThat(ids(lines)).as(type).isEqualTo(ids(expected));
    }
  }

  @Test
  void group_members_on_other_servers_are_reported_as_warnings_and_never_read_as_local() {
    List<String> patients = loaded.get("Patient").stream().map(ExportClient::id).sorted().toList();
    String elsewhere = patients.get(5);
    String ownBase = patients.get(6);
    String relative = patients.get(7);
    String versioned = patients.get(8);
    client.put("Group/mixed-bases", "{\"resourceType\":\"Group\",\"id\":\"mixed-bases\",\"type\":\"person\","
        + "\"actual\":true,\"member\":["
        + "{\"entity\":{\"reference\":\"http://other.example/fhir/Patient/" + elsewhere + "\"}},"
        + "{\"entity\":{\"reference\":\"" + client.base() + "/Patient/" + ownBase + "\"}},"
        + "{\"entity\":{\"reference\":\"Patient/" + relative + "\"}},"
        + "{\"entity\":{\"reference\":\"Patient/" + versioned + "/_history/1\"}},"
        + "{\"entity\":{\"reference\":\"urn:uuid:9b1a7c3e-0000-4000-8000-000000000001\"}}]}");
    JsonNode m = client.manifest("Group/mixed-bases/$export?_type=Patient");
    assertThat(ids(client.lines(m, "output", "Patient"))).containsExactlyInAnyOrder(ownBase, relative, versioned);
    List<String> errors = client.lines(m, "error", "OperationOutcome");
    assertThat(errors).hasSize(2).allSatisfy(e -> assertThat(ExportClient.read(e).at("/issue/0/severity").asText())
        .isEqualTo("warning"));
    assertThat(errors.get(0)).contains("http://other.example/fhir/Patient/" + elsewhere).contains("Group/mixed-bases");
    assertThat(errors.get(1)).contains("urn:uuid:9b1a7c3e-0000-4000-8000-000000000001");
  }

  @Test
  void groups_nested_deeper_than_the_limit_fail_the_job_with_an_operation_outcome() {
    int levels = GroupMembers.MAX_NESTING + 1;
    String patient = ExportClient.id(loaded.get("Patient").get(0));
    for (int i = 0; i <= levels; i++) {
      String member = i < levels ? "Group/deep-" + (i + 1) : "Patient/" + patient;
      client.put("Group/deep-" + i, "{\"resourceType\":\"Group\",\"id\":\"deep-" + i + "\",\"type\":\"person\","
          + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"" + member + "\"}}]}");
    }
    // at the limit: the patient at the bottom is a member
    JsonNode deepest = client.manifest("Group/deep-1/$export?_type=Patient");
    assertThat(ids(client.lines(deepest, "output", "Patient"))).containsExactly(patient);
    // one level more: the job fails, saying why
    HttpResponse<String> failed = client.await(client.start("Group/deep-0/$export?_type=Patient"));
    assertThat(failed.statusCode()).isEqualTo(422);
    assertThat(ExportClient.read(failed.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(failed.body()).contains("deeper than " + GroupMembers.MAX_NESTING);
  }

  @Test
  void patient_parameter_narrows_a_patient_level_export() {
    String p = ExportClient.id(loaded.get("Patient").get(0));
    HttpResponse<String> r = client.post("Patient/$export",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/" + p
            + "\"}},{\"name\":\"_type\",\"valueString\":\"Patient,Encounter\"}]}", ExportClient.ASYNC);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode m = ExportClient.read(client.await(r.headers().firstValue("Content-Location").orElseThrow()).body());
    assertThat(ids(client.lines(m, "output", "Patient"))).containsExactly(p);
    long expected = loaded.get("Encounter").stream().filter(l -> l.contains("Patient/" + p + "\"")).count();
    assertThat(client.lines(m, "output", "Encounter")).hasSize((int) expected);
  }

  @Test
  void elements_keeps_the_listed_and_mandatory_elements_and_tags_subsetted() {
    JsonNode m = client.manifest("$export?_type=Patient,Observation&_elements=Patient.gender,id");
    for (String line : client.lines(m, "output", "Patient")) {
      JsonNode p = ExportClient.read(line);
      Set<String> fields = new HashSet<>();
      p.fieldNames().forEachRemaining(fields::add);
      assertThat(fields).containsExactlyInAnyOrder("resourceType", "id", "meta", "gender");
      assertThat(p.get("meta").get("tag").toString()).contains("SUBSETTED");
    }
    // Observation.status and code are mandatory in R4
    JsonNode o = ExportClient.read(client.lines(m, "output", "Observation").getFirst());
    assertThat(o.has("status")).isTrue();
    assertThat(o.has("code")).isTrue();
    assertThat(o.has("subject")).isFalse();
  }

  @Test
  void elements_keeps_the_variant_of_every_required_choice_so_the_subset_stays_valid_r4() {
    // required choices in R4 (HAPI's metadata): MedicationRequest, MedicationAdministration,
    // MedicationDispense and MedicationStatement medication[x], MedicationAdministration
    // effective[x], Immunization occurrence[x]
    client.put("MedicationAdministration/elements-ma", "{\"resourceType\":\"MedicationAdministration\",\"id\":\"elements-ma\","
        + "\"status\":\"completed\",\"medicationReference\":{\"reference\":\"Medication/m1\"},"
        + "\"subject\":{\"reference\":\"Patient/elements-none\"},\"effectivePeriod\":{\"start\":\"2020-01-01\"},"
        + "\"note\":[{\"text\":\"x\"}]}");
    client.put("MedicationDispense/elements-md", "{\"resourceType\":\"MedicationDispense\",\"id\":\"elements-md\","
        + "\"status\":\"completed\",\"medicationCodeableConcept\":{\"text\":\"aspirin\"},\"note\":[{\"text\":\"x\"}]}");
    client.put("MedicationStatement/elements-ms", "{\"resourceType\":\"MedicationStatement\",\"id\":\"elements-ms\","
        + "\"status\":\"active\",\"medicationCodeableConcept\":{\"text\":\"aspirin\"},"
        + "\"subject\":{\"reference\":\"Patient/elements-none\"},\"effectiveDateTime\":\"2020-01-01\"}");
    JsonNode m = client.manifest("$export?_type=MedicationRequest,MedicationAdministration,MedicationDispense,"
        + "MedicationStatement,Immunization,Observation&_elements=id,Observation.value");
    Map<String, Set<String>> required = Map.of(
        "MedicationRequest", Set.of("status", "intent", "medicationCodeableConcept", "subject"),
        "MedicationAdministration", Set.of("status", "medicationReference", "subject", "effectivePeriod"),
        "MedicationDispense", Set.of("status", "medicationCodeableConcept"),
        "MedicationStatement", Set.of("status", "medicationCodeableConcept", "subject"),
        "Immunization", Set.of("status", "vaccineCode", "patient", "occurrenceDateTime"));
    required.forEach((type, names) -> {
      List<String> lines = client.lines(m, "output", type);
      assertThat(lines).as(type).isNotEmpty();
      for (String line : lines) {
        Set<String> fields = new HashSet<>();
        ExportClient.read(line).fieldNames().forEachRemaining(fields::add);
        Set<String> expected = new HashSet<>(names);
        expected.addAll(List.of("resourceType", "id", "meta"));
        assertThat(fields).as(type).isEqualTo(expected);
      }
    });
    // a listed choice keeps whichever variant a resource has
    List<String> observations = client.lines(m, "output", "Observation");
    for (String line : observations) {
      Set<String> fields = new HashSet<>();
      ExportClient.read(line).fieldNames().forEachRemaining(fields::add);
      fields.removeAll(List.of("resourceType", "id", "meta", "status", "code"));
      assertThat(fields).as(line).allMatch(f -> f.startsWith("value"));
    }
    assertThat(observations).anySatisfy(l -> assertThat(l).contains("\"valueQuantity\""))
        .anySatisfy(l -> assertThat(l).contains("\"valueCodeableConcept\""));
  }

  @Test
  void running_export_reports_progress_and_when_to_come_back() throws IOException {
    String status = client.start("$export?_type=Observation,Claim,ExplanationOfBenefit");
    HttpResponse<String> r = client.get(status);
    if (r.statusCode() == 202) {
      assertThat(r.headers().firstValue("X-Progress")).hasValueSatisfying(p -> assertThat(p.length()).isLessThan(100));
      assertThat(r.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isPositive());
    }
    assertThat(client.await(status).statusCode()).isEqualTo(200);
  }

  @Test
  void type_filters_select_through_search_and_several_for_one_type_are_ored_at_every_level() {
    long female = loaded.get("Patient").stream().filter(l -> l.contains("\"gender\":\"female\"")).count();
    assertThat(female).isBetween(1L, 9L);
    for (String level : List.of("$export", "Patient/$export")) {
      JsonNode one = client.manifest(level + "?_type=Patient,Goal&_typeFilter=Patient%3Fgender%3Dfemale");
      assertThat(client.lines(one, "output", "Patient")).as(level).hasSize((int) female)
          .allSatisfy(l -> assertThat(l).contains("\"gender\":\"female\""));
      assertThat(ExportClient.counts(one).get("Goal")).as("types without a filter are whole").isEqualTo(18L);
      JsonNode both = client.manifest(level + "?_type=Patient&_typeFilter=Patient%3Fgender%3Dfemale"
          + "&_typeFilter=Patient%3Fgender%3Dmale");
      assertThat(client.lines(both, "output", "Patient")).as(level).hasSize(10);
    }
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The guide's STU3 additions over real HTTP: {@code Prefer: separate-export-status}, and
 * {@code _typeFilter} and {@code patient} under {@code Prefer: handling=lenient}.
 */
class ExportStu3Test {
  private static final String[] SEPARATE = {"Accept", "application/fhir+json", "Prefer",
      "respond-async, separate-export-status"};
  private static final String[] LENIENT = {"Accept", "application/fhir+json", "Prefer",
      "respond-async, handling=lenient"};

  private final ExportClient client = ExportFixture.client();
  private final Map<String, List<String>> loaded = ExportFixture.loaded();

  private String start(String path, String... headers) {
    HttpResponse<String> r = client.kickOff(path, headers);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return r.headers().firstValue("Content-Location").orElseThrow();
  }

  /** Polls until X-Export-Status leaves 202; every poll's own code is 200. */
  private HttpResponse<String> awaitSeparate(String statusUrl) {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      HttpResponse<String> r = client.get(statusUrl);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      if (!r.headers().firstValue("X-Export-Status").orElseThrow().equals("202")) {
        return r;
      }
      assertThat(System.nanoTime()).as("export still running after 60 s").isLessThan(deadline);
      ExportClient.sleep(50);
    }
  }

  @Test
  void separate_export_status_answers_200_and_puts_the_jobs_state_in_a_header() throws Exception {
    String status;
    try (Connection held = ExportFixture.holdTransaction()) {
      HttpResponse<String> r = client.kickOff("$export?_type=Practitioner", SEPARATE);
      assertThat(r.headers().allValues("Preference-Applied").toString()).contains("separate-export-status");
      status = r.headers().firstValue("Content-Location").orElseThrow();
      // held queued by the open transaction: the job is at 202, the call itself at 200
      HttpResponse<String> queued = client.get(status);
      assertThat(queued.statusCode()).isEqualTo(200);
      assertThat(queued.headers().firstValue("X-Export-Status")).hasValue("202");
      assertThat(queued.headers().firstValue("X-Progress")).hasValueSatisfying(p -> assertThat(p).contains("queued"));
      assertThat(queued.headers().firstValue("Retry-After")).isPresent();
      held.rollback();
    }
    HttpResponse<String> done = awaitSeparate(status);
    assertThat(done.headers().firstValue("X-Export-Status")).hasValue("200");
    assertThat(ExportClient.counts(ExportClient.read(done.body())))
        .containsEntry("Practitioner", (long) loaded.get("Practitioner").size());
  }

  @Test
  void without_the_preference_the_status_code_is_the_jobs() throws Exception {
    try (Connection held = ExportFixture.holdTransaction()) {
      String status = start("$export?_type=Organization", ExportClient.ASYNC);
      HttpResponse<String> queued = client.get(status);
      assertThat(queued.statusCode()).isEqualTo(202);
      assertThat(queued.headers().firstValue("X-Export-Status")).isEmpty();
      held.rollback();
    }
  }

  @Test
  void separate_export_status_of_a_failed_job_is_200_with_its_error_code_and_outcome() {
    int levels = GroupMembers.MAX_NESTING + 1;
    String patient = ExportClient.id(loaded.get("Patient").get(0));
    for (int i = 0; i <= levels; i++) {
      String member = i < levels ? "Group/sep-deep-" + (i + 1) : "Patient/" + patient;
      client.put("Group/sep-deep-" + i, "{\"resourceType\":\"Group\",\"id\":\"sep-deep-" + i + "\",\"type\":\"person\","
          + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"" + member + "\"}}]}");
    }
    HttpResponse<String> failed = awaitSeparate(start("Group/sep-deep-0/$export?_type=Patient", SEPARATE));
    assertThat(failed.headers().firstValue("X-Export-Status")).hasValue("422");
    assertThat(ExportClient.read(failed.body()).get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(failed.body()).contains("deeper than " + GroupMembers.MAX_NESTING);
  }

  @Test
  void lenient_type_filter_with_an_unknown_search_parameter_is_dropped_and_reported() {
    long vitalSigns = loaded.get("Observation").stream()
        .filter(l -> ExportClient.read(l).path("category").toString().contains("\"code\":\"vital-signs\"")).count();
    long female = loaded.get("Patient").stream()
        .filter(l -> ExportClient.read(l).path("gender").asText().equals("female")).count();
    assertThat(vitalSigns).isLessThan(loaded.get("Observation").size());
    assertThat(female).isPositive().isLessThan(loaded.get("Patient").size());
    // Observation: one filter dropped, the other still applies; Condition: its only filter dropped, so whole;
    // Patient: its filter untouched
    HttpResponse<String> r = client.kickOff("$export?_type=Observation,Condition,Patient"
        + "&_typeFilter=Observation%3Fnonsense%3D1&_typeFilter=Observation%3Fcategory%3Dvital-signs"
        + "&_typeFilter=Condition%3Fno-such-param%3Dx&_typeFilter=Patient%3Fgender%3Dfemale", LENIENT);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode manifest = ExportClient.read(client.await(r.headers().firstValue("Content-Location").orElseThrow()).body());
    assertThat(ExportClient.counts(manifest))
        .containsEntry("Observation", vitalSigns)
        .containsEntry("Condition", (long) loaded.get("Condition").size())
        .containsEntry("Patient", female);
    List<String> warnings = client.lines(manifest, "error", "OperationOutcome");
    assertThat(warnings).hasSize(2);
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("Observation?nonsense=1").contains("\"warning\"")
        .contains("nonsense"));
    assertThat(warnings).anySatisfy(w -> assertThat(w).contains("Condition?no-such-param=x"));
  }

  @Test
  void without_lenient_handling_the_same_filter_is_a_400() {
    HttpResponse<String> r = client.kickOff("$export?_typeFilter=Observation%3Fnonsense%3D1");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("nonsense");
  }

  @Test
  void lenient_patient_that_does_not_exist_is_skipped_and_reported() {
    String p = ExportClient.id(loaded.get("Patient").get(0));
    HttpResponse<String> r = client.post("Patient/$export", "{\"resourceType\":\"Parameters\",\"parameter\":["
        + "{\"name\":\"_type\",\"valueString\":\"Patient\"},"
        + "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/" + p + "\"}},"
        + "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/nobody-here\"}}]}", LENIENT);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode manifest = ExportClient.read(client.await(r.headers().firstValue("Content-Location").orElseThrow()).body());
    assertThat(client.lines(manifest, "output", "Patient")).singleElement()
        .satisfies(l -> assertThat(ExportClient.id(l)).isEqualTo(p));
    assertThat(client.lines(manifest, "error", "OperationOutcome")).singleElement().asString()
        .contains("Patient/nobody-here").contains("not-found").contains("\"warning\"");
  }

  @Test
  void lenient_patients_that_all_do_not_exist_export_nothing_rather_than_everyone() {
    HttpResponse<String> r = client.post("Patient/$export", "{\"resourceType\":\"Parameters\",\"parameter\":["
        + "{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/nobody-at-all\"}}]}", LENIENT);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode manifest = ExportClient.read(client.await(r.headers().firstValue("Content-Location").orElseThrow()).body());
    assertThat(ExportClient.counts(manifest).values()).allMatch(c -> c == 0);
    assertThat(client.lines(manifest, "error", "OperationOutcome")).singleElement().asString()
        .contains("Patient/nobody-at-all");
  }
}

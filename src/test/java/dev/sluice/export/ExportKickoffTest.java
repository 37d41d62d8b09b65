package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class ExportKickoffTest {
  private final ExportClient client = ExportFixture.client();

  private void assertBadRequest(HttpResponse<String> r, String mentions) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains(mentions);
  }

  @Test
  void kickoff_answers_202_with_an_absolute_status_url() {
    HttpResponse<String> r = client.kickOff("$export?_type=Patient");
    assertThat(r.statusCode()).isEqualTo(202);
    assertThat(r.headers().firstValue("Content-Location")).hasValueSatisfying(l ->
        assertThat(l).matches(client.base().replace(".", "\\.") + "/_operations/export/[0-9a-f-]{36}"));
  }

  @Test
  void kickoff_without_prefer_async_returns_400() {
    assertBadRequest(client.kickOff("$export", "Accept", "application/fhir+json"), "respond-async");
  }

  @Test
  void kickoff_without_fhir_json_accept_returns_400() {
    assertBadRequest(client.kickOff("Patient/$export", "Prefer", "respond-async"), "Accept");
    assertBadRequest(client.kickOff("$export", "Prefer", "respond-async", "Accept", "application/xml"), "Accept");
  }

  @Test
  void every_level_kicks_off_by_get_and_post() {
    String group = "{\"resourceType\":\"Group\",\"id\":\"kick-g\",\"type\":\"person\",\"actual\":true}";
    client.put("Group/kick-g", group);
    for (String path : new String[] {"$export", "Patient/$export", "Group/kick-g/$export"}) {
      assertThat(client.kickOff(path + "?_type=Patient").statusCode()).isEqualTo(202);
      HttpResponse<String> post = client.post(path,
          "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_type\",\"valueString\":\"Patient\"}]}",
          ExportClient.ASYNC);
      assertThat(post.statusCode()).as(post.body()).isEqualTo(202);
    }
  }

  @Test
  void unknown_group_returns_404() {
    HttpResponse<String> r = client.kickOff("Group/no-such-group/$export");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).contains("OperationOutcome").contains("Group/no-such-group");
  }

  @Test
  void bad_output_format_returns_400() {
    assertBadRequest(client.kickOff("$export?_outputFormat=text/csv"), "_outputFormat");
  }

  @Test
  void accepted_output_formats_are_the_three_ndjson_names() {
    for (String f : new String[] {"application/fhir%2Bndjson", "application/ndjson", "ndjson"}) {
      assertThat(client.kickOff("$export?_type=Patient&_outputFormat=" + f).statusCode()).isEqualTo(202);
    }
  }

  @Test
  void malformed_or_future_since_returns_400() {
    assertBadRequest(client.kickOff("$export?_since=yesterday"), "_since");
    assertBadRequest(client.kickOff("$export?_since=2999-01-01T00:00:00Z"), "future");
    assertBadRequest(client.kickOff("$export?_till=2999-01-01T00:00:00Z"), "_till");
  }

  @Test
  void unknown_type_returns_400() {
    assertBadRequest(client.kickOff("$export?_type=Patient,Nonsense"), "Nonsense");
  }

  @Test
  void type_outside_patient_compartments_is_refused_at_patient_level() {
    assertBadRequest(client.kickOff("Patient/$export?_type=Organization"), "Organization");
  }

  @Test
  void container_that_could_escape_the_store_returns_400() {
    for (String c : new String[] {"..", "a/b", "..%2F..%2Fetc", "Upper", "ab", "a--b"}) {
      assertBadRequest(client.kickOff("$export?_container=" + c), "_container");
    }
  }

  @Test
  void unknown_parameter_returns_400_naming_it() {
    assertBadRequest(client.kickOff("$export?_foo=1"), "_foo");
  }

  @Test
  void unknown_parameter_under_lenient_handling_is_reported_in_the_error_files() {
    HttpResponse<String> r = client.kickOff("$export?_type=Patient&_foo=1",
        "Accept", "application/fhir+json", "Prefer", "respond-async, handling=lenient");
    assertThat(r.statusCode()).isEqualTo(202);
    JsonNode manifest = ExportClient.read(client.await(r.headers().firstValue("Content-Location").orElseThrow()).body());
    assertThat(client.lines(manifest, "error", "OperationOutcome")).singleElement().asString().contains("_foo");
    assertThat(ExportClient.counts(manifest)).containsEntry("Patient", 10L);
  }

  @Test
  void type_filter_with_an_unknown_search_parameter_returns_400() {
    assertBadRequest(client.kickOff("$export?_typeFilter=Observation%3Fnonsense%3D1"), "_typeFilter");
    assertBadRequest(client.kickOff("$export?_type=Patient&_typeFilter=Observation%3Fstatus%3Dfinal"), "_typeFilter");
  }

  @Test
  void repeated_parameters_count_as_a_comma_list() {
    JsonNode repeated = client.manifest("$export?_type=Patient&_type=Organization");
    assertThat(ExportClient.counts(repeated)).containsOnlyKeys("Patient", "Organization");
  }

  @Test
  void patient_parameter_must_name_an_existing_patient() {
    HttpResponse<String> r = client.post("Patient/$export",
        "{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"patient\",\"valueReference\":{\"reference\":\"Patient/nobody\"}}]}",
        ExportClient.ASYNC);
    assertBadRequest(r, "Patient/nobody");
  }

  @Test
  void identical_request_from_the_same_client_returns_its_running_job_but_not_another_clients() throws Exception {
    // a transaction in progress holds every new job at planning until it ends
    try (var c = ExportFixture.app().dataSource().getConnection()) {
      c.setAutoCommit(false);
      c.createStatement().execute("select pg_current_xact_id()");
      String[] alice = {"Accept", "application/fhir+json", "Prefer", "respond-async", "Authorization", "Bearer alice"};
      String[] bob = {"Accept", "application/fhir+json", "Prefer", "respond-async", "Authorization", "Bearer bob"};
      String first = client.kickOff("$export?_type=Goal", alice).headers().firstValue("Content-Location").orElseThrow();
      String again = client.kickOff("$export?_type=Goal", alice).headers().firstValue("Content-Location").orElseThrow();
      String other = client.kickOff("$export?_type=Goal", bob).headers().firstValue("Content-Location").orElseThrow();
      assertThat(again).isEqualTo(first);
      assertThat(other).isNotEqualTo(first);
      HttpResponse<String> waiting = client.get(first);
      assertThat(waiting.statusCode()).isEqualTo(202);
      assertThat(waiting.headers().firstValue("X-Progress")).hasValueSatisfying(p -> assertThat(p).contains("queued"));
      assertThat(waiting.headers().firstValue("Retry-After")).isPresent();
      c.rollback();
    }
  }

  @Test
  void capability_statement_declares_the_three_export_operations() {
    JsonNode cs = ExportClient.read(client.get("metadata").body());
    String json = cs.toString();
    assertThat(json).contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export\"")
        .contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export")
        .contains("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export");
    JsonNode rest = cs.get("rest").get(0);
    assertThat(rest.get("operation").toString()).contains("\"name\":\"export\"");
    for (JsonNode r : rest.get("resource")) {
      String type = r.get("type").asText();
      if (type.equals("Patient") || type.equals("Group")) {
        assertThat(r.get("operation").toString()).as(type).contains(type.toLowerCase() + "-export");
      }
    }
  }

  @Test
  void a_setting_relaxes_the_async_headers() {
    try (var relaxed = dev.sluice.testing.TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e ->
        new dev.sluice.cli.ExportConfig(e.storage(), e.azureConnectionString(), e.workers(), e.maxRunningJobs(),
            e.maxFileBytes(), e.maxFileResources(), e.partResources(), e.leaseSeconds(), e.retentionSeconds(), false,
            e.storeRetries())))) {
      HttpResponse<String> r = relaxed.get("$export");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
      assertThat(r.headers().firstValue("Content-Location")).isPresent();
    }
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The export jobs you can see: the list of jobs over HTTP, and the export's metrics. */
class ExportJobListTest {
  private final ExportClient client = ExportFixture.client();

  private static Map<String, JsonNode> parameters(JsonNode entry) {
    Map<String, JsonNode> byName = new HashMap<>();
    for (JsonNode p : entry.get("resource").get("parameter")) {
      byName.put(p.get("name").asText(), p);
    }
    return byName;
  }

  private static String id(String status) {
    return status.substring(status.lastIndexOf('/') + 1);
  }

  @Test
  void the_list_of_jobs_is_newest_first_paged_and_tells_each_jobs_status_level_request_progress_and_times() {
    List<String> ids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      String status = client.start("$export?_type=Organization&_since=2001-01-0" + i + "T00:00:00Z");
      assertThat(client.await(status).statusCode()).isEqualTo(200);
      ids.add(id(status));
    }
    HttpResponse<String> first = client.get("_operations/export?_count=2");
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    JsonNode page = ExportClient.read(first.body());
    assertThat(page.get("resourceType").asText()).isEqualTo("Bundle");
    assertThat(page.get("entry")).hasSize(2);
    Map<String, JsonNode> newest = parameters(page.get("entry").get(0));
    assertThat(newest.get("id").get("valueString").asText()).isEqualTo(ids.get(2));
    assertThat(parameters(page.get("entry").get(1)).get("id").get("valueString").asText()).isEqualTo(ids.get(1));
    assertThat(page.get("entry").get(0).get("fullUrl").asText()).isEqualTo(client.base() + "/_operations/export/"
        + ids.get(2));
    assertThat(newest.get("status").get("valueCode").asText()).isEqualTo("completed");
    assertThat(newest.get("level").get("valueCode").asText()).isEqualTo("system");
    assertThat(newest.get("request").get("valueUri").asText()).contains("_type=Organization")
        .contains("2001-01-03");
    assertThat(newest.get("progress").get("valueString").asText()).startsWith("100% (");
    Instant created = Instant.parse(newest.get("created").get("valueInstant").asText());
    assertThat(Instant.parse(newest.get("expires").get("valueInstant").asText())).isAfter(created);

    String next = null;
    for (JsonNode link : page.get("link")) {
      if (link.get("relation").asText().equals("next")) {
        next = link.get("url").asText();
      }
    }
    assertThat(next).as("next link").isNotNull();
    JsonNode second = ExportClient.read(client.get(next).body());
    assertThat(parameters(second.get("entry").get(0)).get("id").get("valueString").asText()).isEqualTo(ids.get(0));
  }

  @Test
  void a_bad_count_or_cursor_is_a_400() {
    for (String query : List.of("_count=0", "_count=501", "_count=x", "_cursor=not-a-cursor")) {
      HttpResponse<String> r = client.get("_operations/export?" + query);
      assertThat(r.statusCode()).as(query).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome");
    }
  }

  @Test
  void metrics_count_jobs_by_state_and_what_exports_wrote() {
    assertThat(client.await(client.start("$export?_type=Organization&_since=2002-02-02T00:00:00Z")).statusCode())
        .isEqualTo(200);
    String root = client.base().substring(0, client.base().length() - "/fhir".length());
    long deadline = System.nanoTime() + 30_000_000_000L;
    String metrics;
    do {
      // the coordinator refreshes the jobs by state when it is idle
      metrics = client.get(root + "/metrics").body();
      assertThat(System.nanoTime()).as("jobs by state on /metrics").isLessThan(deadline);
      ExportClient.sleep(100);
    } while (!metrics.contains("sluice_export_jobs{state=\"completed\"}"));
    assertThat(metrics).contains("sluice_export_jobs{state=\"queued\"}")
        .contains("sluice_export_resources_written_total")
        .contains("sluice_export_written_bytes_total")
        .contains("sluice_export_files_written_total")
        .contains("sluice_export_jobs_ended_total{state=\"completed\"}")
        .contains("sluice_export_deid_errors_total");
    assertThat(value(metrics, "sluice_export_written_bytes_total")).isPositive();
  }

  private static double value(String metrics, String name) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError(name + " is not on /metrics");
  }
}

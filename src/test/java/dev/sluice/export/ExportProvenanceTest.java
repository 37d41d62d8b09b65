package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code includeAssociatedData=LatestProvenanceResources} and {@code RelevantProvenanceResources}
 * over HTTP, at the three levels. A server of its own: its Patients and Provenance would change
 * the shared fixture's population.
 *
 * <p>The data: patients pv-p1 (member of Group pv-g) and pv-p2; Observations pv-o1 and pv-o3 of
 * pv-p1, pv-o2 of pv-p2; Basic pv-b1 in no compartment. Provenance, oldest first: pv-a (two
 * versions, targets pv-o1), pv-d (pv-o2), pv-b (pv-o1 and pv-o2), pv-e (pv-o3), pv-c (pv-b1),
 * pv-x (a Practitioner that is not exported).
 */
class ExportProvenanceTest {
  private static TestServer server;
  private static ExportClient client;
  private static String afterLoad;

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> e));
    client = new ExportClient(server);
    put("Patient/pv-p1", "{\"resourceType\":\"Patient\",\"id\":\"pv-p1\"}");
    put("Patient/pv-p2", "{\"resourceType\":\"Patient\",\"id\":\"pv-p2\"}");
    put("Group/pv-g", "{\"resourceType\":\"Group\",\"id\":\"pv-g\",\"type\":\"person\",\"actual\":true,"
        + "\"member\":[{\"entity\":{\"reference\":\"Patient/pv-p1\"}}]}");
    put("Observation/pv-o1", observation("pv-o1", "pv-p1"));
    put("Observation/pv-o2", observation("pv-o2", "pv-p2"));
    put("Observation/pv-o3", observation("pv-o3", "pv-p1"));
    put("Basic/pv-b1", "{\"resourceType\":\"Basic\",\"id\":\"pv-b1\",\"code\":{\"text\":\"b\"}}");
    put("Practitioner/pv-dr", "{\"resourceType\":\"Practitioner\",\"id\":\"pv-dr\"}");
    put("Provenance/pv-a", provenance("pv-a", "2020-01-01T00:00:00Z", "Observation/pv-o1"));
    put("Provenance/pv-a", provenance("pv-a", "2020-01-02T00:00:00Z", "Observation/pv-o1"));
    put("Provenance/pv-d", provenance("pv-d", "2020-01-03T00:00:00Z", "Observation/pv-o2"));
    put("Provenance/pv-b", provenance("pv-b", "2020-01-04T00:00:00Z", "Observation/pv-o1", "Observation/pv-o2"));
    put("Provenance/pv-e", provenance("pv-e", "2020-01-05T00:00:00Z", "Observation/pv-o3"));
    put("Provenance/pv-c", provenance("pv-c", "2020-01-06T00:00:00Z", "Basic/pv-b1"));
    put("Provenance/pv-x", provenance("pv-x", "2020-01-07T00:00:00Z", "Practitioner/pv-dr"));
    afterLoad = client.manifest("$export?_type=Patient").get("transactionTime").asText();
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static void put(String path, String body) {
    HttpResponse<String> r = client.put(path, body);
    assertThat(r.statusCode()).as(r.body()).isBetween(200, 201);
  }

  private static String observation(String id, String patient) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
  }

  private static String provenance(String id, String recorded, String... targets) {
    StringBuilder t = new StringBuilder();
    for (String target : targets) {
      t.append(t.isEmpty() ? "" : ",").append("{\"reference\":\"").append(target).append("\"}");
    }
    return "{\"resourceType\":\"Provenance\",\"id\":\"" + id + "\",\"target\":[" + t + "],\"recorded\":\"" + recorded
        + "\",\"agent\":[{\"who\":{\"reference\":\"Practitioner/pv-dr\"}}]}";
  }

  /** The Provenance in the Provenance files, as id/versionId, sorted; each id at most once. */
  private static List<String> provenance(JsonNode manifest) {
    return provenance(manifest, "pv-");
  }

  /** The same, of the ids starting with {@code prefix}. */
  private static List<String> provenance(JsonNode manifest, String prefix) {
    List<String> found = new ArrayList<>();
    for (JsonNode f : manifest.get("output")) {
      String url = f.get("url").asText();
      if (url.substring(url.lastIndexOf('/') + 1).matches("Provenance-[0-9]+\\.ndjson")) {
        assertThat(f.get("type").asText()).isEqualTo("Provenance");
        for (String line : client.download(url)) {
          if (!ExportClient.id(line).startsWith(prefix)) {
            continue;
          }
          found.add(ExportClient.id(line) + "/" + ExportClient.read(line).get("meta").get("versionId").asText());
        }
      }
    }
    found.sort(null);
    return found;
  }

  private static List<String> provenance(String path) {
    return provenance(client.manifest(path));
  }

  @Test
  void relevant_provenance_at_system_level_is_every_provenance_targeting_an_exported_resource() {
    assertThat(provenance("$export?_type=Observation&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-a/2", "pv-b/1", "pv-d/1", "pv-e/1");
  }

  @Test
  void latest_provenance_at_system_level_is_the_most_recent_one_of_each_exported_resource() {
    // pv-b is the latest of pv-o1 (over pv-a) and of pv-o2 (over pv-d), pv-e of pv-o3
    assertThat(provenance("$export?_type=Observation&includeAssociatedData=LatestProvenanceResources"))
        .containsExactly("pv-b/1", "pv-e/1");
  }

  @Test
  void provenance_follows_type() {
    assertThat(provenance("$export?_type=Basic&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-c/1");
    assertThat(provenance("$export?_type=Basic,Practitioner&includeAssociatedData=LatestProvenanceResources"))
        .containsExactly("pv-c/1", "pv-x/1");
  }

  @Test
  void provenance_at_patient_level_follows_the_compartments() {
    // pv-b1 is in no compartment: pv-c is not written
    assertThat(provenance("Patient/$export?_type=Observation,Basic&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-a/2", "pv-b/1", "pv-d/1", "pv-e/1");
    assertThat(provenance("Patient/$export?patient=Patient/pv-p1&_type=Observation"
        + "&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-a/2", "pv-b/1", "pv-e/1");
  }

  @Test
  void provenance_at_group_level_follows_the_members() {
    assertThat(provenance("Group/pv-g/$export?_type=Observation&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-a/2", "pv-b/1", "pv-e/1");
    assertThat(provenance("Group/pv-g/$export?_type=Observation&includeAssociatedData=LatestProvenanceResources"))
        .containsExactly("pv-b/1", "pv-e/1");
  }

  @Test
  void provenance_follows_the_type_filter() {
    assertThat(provenance("$export?_type=Observation&_typeFilter=Observation%3Fsubject%3DPatient/pv-p2"
        + "&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-b/1", "pv-d/1");
  }

  @Test
  void provenance_follows_since_the_provenance_of_the_changed_resources_whatever_its_own_time() {
    put("Observation/pv-o3", observation("pv-o3", "pv-p1").replace("\"x\"", "\"y\""));
    try {
      assertThat(provenance("$export?_type=Observation&_since=" + afterLoad
          + "&includeAssociatedData=RelevantProvenanceResources")).containsExactly("pv-e/1");
    } finally {
      put("Observation/pv-o3", observation("pv-o3", "pv-p1"));
    }
  }

  @Test
  void provenance_exported_as_a_type_is_written_once() {
    assertThat(provenance("$export?_type=Observation,Provenance&includeAssociatedData=RelevantProvenanceResources"))
        .containsExactly("pv-a/2", "pv-b/1", "pv-c/1", "pv-d/1", "pv-e/1", "pv-x/1");
    // at Patient level Provenance is exported as far as it is in a compartment (none here)
    assertThat(provenance("Patient/$export?_type=Observation,Provenance&includeAssociatedData=LatestProvenanceResources"))
        .containsExactly("pv-b/1", "pv-e/1");
  }

  @Test
  void unsupported_combinations_are_400_naming_the_parameter() {
    Map<String, String> refused = new TreeMap<>(Map.of(
        "Patient/$export?organizeOutputBy=Patient&includeAssociatedData=LatestProvenanceResources", "organizeOutputBy",
        "Patient/$export?organizeOutputBy=Patient&includeAssociatedData=_history", "organizeOutputBy",
        "Group/pv-g/$export?organizeOutputBy=Patient&includeAssociatedData=_deleted", "organizeOutputBy"));
    refused.forEach((path, says) -> {
      HttpResponse<String> r = client.kickOff(path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome").contains(says).contains("includeAssociatedData");
    });
  }

  @Test
  void provenance_and_targets_changed_after_kick_off_are_judged_as_they_were_at_transaction_time() throws Exception {
    put("Condition/pt-c1", condition("pt-c1", "pv-p1"));
    put("Condition/pt-c2", condition("pt-c2", "pv-p1"));
    put("Condition/pt-c3", condition("pt-c3", "pv-p2"));
    put("Condition/pt-c4", condition("pt-c4", "pv-p1"));
    put("Provenance/pt-1", provenance("pt-1", "2021-01-01T00:00:00Z", "Condition/pt-c1"));
    put("Provenance/pt-2", provenance("pt-2", "2021-01-01T00:00:00Z", "Condition/pt-c2"));
    put("Provenance/pt-3", provenance("pt-3", "2021-01-01T00:00:00Z", "Condition/pt-c3"));
    put("Provenance/pt-4", provenance("pt-4", "2021-01-01T00:00:00Z", "Condition/pt-c4"));
    String status;
    try (java.sql.Connection blocker = server.app().dataSource().getConnection()) {
      // an xid in progress at kick-off: the job waits for it, so the writes below are after transactionTime
      blocker.setAutoCommit(false);
      blocker.createStatement().execute("select pg_current_xact_id()");
      status = client.start("Group/pv-g/$export?_type=Condition&includeAssociatedData=LatestProvenanceResources");
      // pt-1 targeted a member's Condition at T, no longer
      put("Provenance/pt-1", provenance("pt-1", "2021-01-02T00:00:00Z", "Location/pt-nowhere"));
      // pt-c2 was a member's at T, no longer
      put("Condition/pt-c2", condition("pt-c2", "pv-p2"));
      // pt-c3 was not a member's at T, is now
      put("Condition/pt-c3", condition("pt-c3", "pv-p1"));
      // a later Provenance of pt-c4 than pt-4, written after T: pt-4 stays the latest at T
      put("Provenance/pt-5", provenance("pt-5", "2021-01-03T00:00:00Z", "Condition/pt-c4"));
      blocker.rollback();
    }
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertThat(provenance(ExportClient.read(done.body()), "pt-")).containsExactly("pt-1/1", "pt-2/1", "pt-4/1");
  }

  private static String condition(String id, String patient) {
    return "{\"resourceType\":\"Condition\",\"id\":\"" + id + "\",\"code\":{\"text\":\"c\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
  }
}

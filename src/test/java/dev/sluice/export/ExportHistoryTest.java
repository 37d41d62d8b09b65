package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** {@code includeAssociatedData=_history,_deleted} over HTTP: every version, deletions marked as Azure marks them. */
class ExportHistoryTest {
  private static final String MARKER =
      "{\"url\":\"http://azurehealthcareapis.com/data-extensions/deleted-state\",\"valueString\":\"soft-deleted\"}";
  private final ExportClient client = ExportFixture.client();

  private static String basic(String id, String text) {
    return "{\"resourceType\":\"Basic\",\"id\":\"" + id + "\",\"code\":{\"text\":\"" + text + "\"}}";
  }

  /** The lines of the output files of {@code type} whose names start with {@code prefix-<n>}, of ids starting with {@code ids}. */
  private List<String> lines(JsonNode manifest, String prefix, String ids) {
    List<String> lines = new ArrayList<>();
    for (JsonNode f : manifest.get("output")) {
      String url = f.get("url").asText();
      String name = url.substring(url.lastIndexOf('/') + 1);
      if (name.matches(prefix + "-[0-9]+\\.ndjson")) {
        for (String line : client.download(url)) {
          if (ExportClient.id(line).startsWith(ids)) {
            lines.add(line);
          }
        }
      }
    }
    lines.sort(null);
    return lines;
  }

  private String vread(String path) {
    HttpResponse<String> r = client.get(path);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private static String version(String line) {
    JsonNode meta = ExportClient.read(line).get("meta");
    return ExportClient.id(line) + "/" + meta.get("versionId").asText();
  }

  private static List<String> versions(List<String> lines) {
    return lines.stream().map(ExportHistoryTest::version).sorted().toList();
  }

  @Test
  void history_and_deleted_write_every_version_at_transaction_time_and_mark_the_deletions() throws Exception {
    client.put("Basic/hx-a", basic("hx-a", "a1"));
    client.put("Basic/hx-a", basic("hx-a", "a2"));
    client.put("Basic/hx-d", basic("hx-d", "d1"));
    client.put("Basic/hx-d", basic("hx-d", "d2"));
    client.delete("Basic/hx-d");
    client.put("Basic/hx-r", basic("hx-r", "r1"));
    client.delete("Basic/hx-r");
    client.put("Basic/hx-r", basic("hx-r", "r3"));
    String status;
    try (Connection blocker = ExportFixture.holdTransaction()) {
      status = client.start("$export?_type=Basic&includeAssociatedData=_history,_deleted");
      // after transactionTime: a2 becomes history, hx-r is deleted again; neither is exported so
      client.put("Basic/hx-a", basic("hx-a", "a3"));
      client.delete("Basic/hx-r");
      blocker.rollback();
    }
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode m = ExportClient.read(done.body());

    assertThat(versions(lines(m, "Basic", "hx-"))).containsExactly("hx-a/2", "hx-r/3");
    List<String> history = lines(m, "Basic-history", "hx-");
    assertThat(versions(history)).containsExactly("hx-a/1", "hx-d/1", "hx-d/2", "hx-r/1");
    for (String line : history) {
      // byte for byte what a vread answers
      assertThat(line).isEqualTo(vread("Basic/" + version(line).replace("/", "/_history/")));
    }
    List<String> deleted = lines(m, "Basic-deleted", "hx-");
    // with _history, also the deletion that hx-r's re-creation undid
    assertThat(versions(deleted)).containsExactly("hx-d/3", "hx-r/2");
    for (String line : deleted) {
      assertThat(line).contains("\"extension\":[" + MARKER + "]");
    }
    String d = deleted.stream().filter(l -> l.contains("hx-d")).findFirst().orElseThrow();
    // the last version's content, under the deletion's versionId and lastUpdated
    assertThat(d).contains("\"text\":\"d2\"");
    String deletionTime = ExportClient.read(vread("Basic/hx-d/_history")).get("entry").get(0).get("response")
        .get("lastModified").asText();
    assertThat(java.time.Instant.parse(ExportClient.read(d).get("meta").get("lastUpdated").asText().replace("+00:00", "Z")))
        .isEqualTo(java.time.Instant.parse(deletionTime.replace("+00:00", "Z")));
    // the manifest names them under their resource type, in output
    for (JsonNode f : m.get("output")) {
      if (f.get("url").asText().contains("Basic-")) {
        assertThat(f.get("type").asText()).isEqualTo("Basic");
      }
    }
  }

  @Test
  void deleted_alone_writes_the_resources_deleted_at_transaction_time_and_no_history() {
    client.put("Basic/hy-d", basic("hy-d", "d1"));
    client.delete("Basic/hy-d");
    client.put("Basic/hy-r", basic("hy-r", "r1"));
    client.delete("Basic/hy-r");
    client.put("Basic/hy-r", basic("hy-r", "r3"));
    JsonNode m = client.manifest("$export?_type=Basic&includeAssociatedData=_deleted");
    assertThat(versions(lines(m, "Basic-deleted", "hy-"))).containsExactly("hy-d/2");
    assertThat(lines(m, "Basic-history", "hy-")).isEmpty();
    assertThat(versions(lines(m, "Basic", "hy-"))).containsExactly("hy-r/3");
  }

  @Test
  void history_follows_since_and_until() {
    client.put("Basic/hz-a", basic("hz-a", "a1"));
    String t1 = client.manifest("$export?_type=Basic").get("transactionTime").asText();
    client.put("Basic/hz-a", basic("hz-a", "a2"));
    client.put("Basic/hz-a", basic("hz-a", "a3"));
    client.put("Basic/hz-b", basic("hz-b", "b1"));
    client.delete("Basic/hz-b");
    String t2 = client.manifest("$export?_type=Basic").get("transactionTime").asText();
    client.put("Basic/hz-a", basic("hz-a", "a4"));
    JsonNode m = client.manifest("$export?_type=Basic&includeAssociatedData=_history,_deleted&_since=" + t1
        + "&_until=" + t2);
    assertThat(versions(lines(m, "Basic", "hz-"))).containsExactly("hz-a/3");
    assertThat(versions(lines(m, "Basic-history", "hz-"))).containsExactly("hz-a/2", "hz-b/1");
    assertThat(versions(lines(m, "Basic-deleted", "hz-"))).containsExactly("hz-b/2");
  }

  @Test
  void chain_of_since_exports_with_history_and_deleted_carries_every_version_exactly_once_under_concurrent_writes()
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Random random = new Random(11);
    Thread writer = Thread.ofVirtual().start(() -> {
      int n = 0;
      while (!stop.get()) {
        String id = "hc-" + random.nextInt(30);
        if (random.nextInt(4) == 0) {
          client.delete("Basic/" + id);
        } else {
          client.put("Basic/" + id, basic(id, "n" + (n++)));
        }
      }
    });
    Set<String> exported = new HashSet<>();
    String since = null;
    for (int round = 0; round < 6; round++) {
      JsonNode m = client.manifest("$export?_type=Basic&includeAssociatedData=_history,_deleted"
          + (since == null ? "" : "&_since=" + since));
      for (String prefix : List.of("Basic", "Basic-history", "Basic-deleted")) {
        for (String v : versions(lines(m, prefix, "hc-"))) {
          assertThat(exported.add(v)).as("written twice: " + v + " (round " + round + ")").isTrue();
        }
      }
      since = m.get("transactionTime").asText();
      if (round == 4) {
        stop.set(true);
        writer.join();
      }
    }
    Set<String> truth = new HashSet<>();
    try (Connection c = ExportFixture.app().dataSource().getConnection();
        ResultSet rs = c.createStatement().executeQuery(
            "select res_id, version from resource_version where res_type = 'Basic' and res_id like 'hc-%'")) {
      while (rs.next()) {
        truth.add(rs.getString(1) + "/" + rs.getInt(2));
      }
    }
    assertThat(truth).hasSizeGreaterThan(30);
    assertThat(exported).isEqualTo(truth);
  }

  @Test
  void unsupported_associated_data_and_combinations_are_400() {
    Map<String, String> refused = new TreeMap<>(Map.of(
        "$export?includeAssociatedData=_everything", "_everything",
        "Patient/$export?includeAssociatedData=_history&_typeFilter=Flag%3Fsubject%3DPatient/x", "_typeFilter",
        "$export?_type=Basic&includeAssociatedData=_history&_typeFilter=Basic%3Fcode%3Dx", "_typeFilter",
        "$export?_container=abc&_anonymizationConfig=x.json&includeAssociatedData=_deleted", "_anonymizationConfig"));
    refused.forEach((path, says) -> {
      HttpResponse<String> r = client.kickOff(path);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome").contains(says).contains("includeAssociatedData");
    });
  }

  @Test
  void unsupported_associated_data_under_lenient_handling_is_ignored_and_reported() {
    HttpResponse<String> r = client.kickOff("$export?_type=Basic&includeAssociatedData=_everything,_history",
        "Accept", "application/fhir+json", "Prefer", "respond-async, handling=lenient");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    HttpResponse<String> done = client.await(r.headers().firstValue("Content-Location").orElseThrow());
    JsonNode m = ExportClient.read(done.body());
    assertThat(String.join("\n", client.lines(m, "error", "OperationOutcome")))
        .contains("includeAssociatedData '_everything' was left out");
  }

  private static String flag(String id, String subject, String status) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"code\":{\"text\":\"f\"},"
        + "\"subject\":{\"reference\":\"" + subject + "\"}}";
  }

  /**
   * Flags of two fixture patients (one a member of the Group) and one in no compartment, each
   * updated and one of each deleted; returns the fixture patients' ids.
   */
  private List<String> compartmentFlags(String prefix) {
    List<String> patients = ExportFixture.loaded().get("Patient").stream().map(ExportClient::id).limit(2).toList();
    String in = "Patient/" + patients.get(0);
    String other = "Patient/" + patients.get(1);
    for (String[] f : new String[][] {{"in", in}, {"other", other}, {"none", "Location/" + prefix + "loc"}}) {
      client.put("Flag/" + prefix + f[0], flag(prefix + f[0], f[1], "active"));
      client.put("Flag/" + prefix + f[0], flag(prefix + f[0], f[1], "inactive"));
      client.put("Flag/" + prefix + f[0] + "-gone", flag(prefix + f[0] + "-gone", f[1], "active"));
      client.delete("Flag/" + prefix + f[0] + "-gone");
    }
    return patients;
  }

  @Test
  void history_and_deleted_at_patient_level_hold_the_versions_in_patient_compartments() {
    compartmentFlags("hp-");
    JsonNode m = client.manifest("Patient/$export?_type=Flag&includeAssociatedData=_history,_deleted");
    assertThat(versions(lines(m, "Flag", "hp-"))).containsExactly("hp-in/2", "hp-other/2");
    assertThat(versions(lines(m, "Flag-history", "hp-"))).containsExactly("hp-in-gone/1", "hp-in/1",
        "hp-other-gone/1", "hp-other/1");
    assertThat(versions(lines(m, "Flag-deleted", "hp-"))).containsExactly("hp-in-gone/2", "hp-other-gone/2");
  }

  @Test
  void history_and_deleted_at_group_level_hold_the_members_versions_only() {
    List<String> patients = compartmentFlags("hg-");
    client.put("Group/hg-group", "{\"resourceType\":\"Group\",\"id\":\"hg-group\",\"type\":\"person\","
        + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"Patient/" + patients.get(0) + "\"}}]}");
    JsonNode m = client.manifest("Group/hg-group/$export?_type=Flag&includeAssociatedData=_history,_deleted");
    assertThat(versions(lines(m, "Flag", "hg-"))).containsExactly("hg-in/2");
    assertThat(versions(lines(m, "Flag-history", "hg-"))).containsExactly("hg-in-gone/1", "hg-in/1");
    assertThat(versions(lines(m, "Flag-deleted", "hg-"))).containsExactly("hg-in-gone/2");
    // and with patient=, the other patient's only
    JsonNode narrowed = client.manifest("Patient/$export?patient=Patient/" + patients.get(1)
        + "&_type=Flag&includeAssociatedData=_history,_deleted");
    assertThat(versions(lines(narrowed, "Flag-history", "hg-"))).containsExactly("hg-other-gone/1", "hg-other/1");
    assertThat(versions(lines(narrowed, "Flag-deleted", "hg-"))).containsExactly("hg-other-gone/2");
  }

  @Test
  void history_at_group_level_follows_since() {
    List<String> patients = ExportFixture.loaded().get("Patient").stream().map(ExportClient::id).limit(1).toList();
    client.put("Group/hs-group", "{\"resourceType\":\"Group\",\"id\":\"hs-group\",\"type\":\"person\","
        + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"Patient/" + patients.get(0) + "\"}}]}");
    client.put("Flag/hs-a", flag("hs-a", "Patient/" + patients.get(0), "active"));
    String t1 = client.manifest("$export?_type=Basic").get("transactionTime").asText();
    client.put("Flag/hs-a", flag("hs-a", "Patient/" + patients.get(0), "inactive"));
    client.put("Flag/hs-a", flag("hs-a", "Patient/" + patients.get(0), "entered-in-error"));
    JsonNode m = client.manifest("Group/hs-group/$export?_type=Flag&_since=" + t1 + "&includeAssociatedData=_history");
    assertThat(versions(lines(m, "Flag-history", "hs-"))).containsExactly("hs-a/2");
    assertThat(versions(lines(m, "Flag", "hs-"))).containsExactly("hs-a/3");
  }
}

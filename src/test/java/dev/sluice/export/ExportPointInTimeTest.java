package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ExportPointInTimeTest {
  private final ExportClient client = ExportFixture.client();

  private static String flag(String id, String text) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"status\":\"active\",\"code\":{\"text\":\"" + text + "\"},"
        + "\"subject\":{\"reference\":\"Patient/pit\"}}";
  }

  @Test
  void changes_after_transaction_time_are_not_exported_but_the_state_at_that_time_is() throws Exception {
    client.put("Flag/pit-changed", flag("pit-changed", "before"));
    client.put("Flag/pit-deleted", flag("pit-deleted", "before"));
    String status;
    try (Connection blocker = ExportFixture.holdTransaction()) {
      status = client.start("$export?_type=Flag");
      client.put("Flag/pit-changed", flag("pit-changed", "after"));
      client.delete("Flag/pit-deleted");
      client.put("Flag/pit-created", flag("pit-created", "after"));
      blocker.rollback();
    }
    JsonNode m = ExportClient.read(client.await(status).body());
    Map<String, String> byId = new HashMap<>();
    for (String line : client.lines(m, "output", "Flag")) {
      byId.put(ExportClient.id(line), line);
    }
    assertThat(byId.get("pit-changed")).contains("before").contains("\"versionId\":\"1\"");
    assertThat(byId).containsKey("pit-deleted").doesNotContainKey("pit-created");
  }

  @Test
  void since_and_deleted_report_what_changed_after_a_point() throws Exception {
    client.put("Flag/since-a", flag("since-a", "v1"));
    client.put("Flag/since-b", flag("since-b", "v1"));
    JsonNode first = client.manifest("$export?_type=Flag");
    String t = first.get("transactionTime").asText();
    client.put("Flag/since-a", flag("since-a", "v2"));
    client.delete("Flag/since-b");
    JsonNode second = client.manifest("$export?_type=Flag&_since=" + t);
    assertThat(client.lines(second, "output", "Flag")).singleElement().asString().contains("since-a").contains("v2");
    List<String> deleted = client.lines(second, "deleted", "Bundle");
    assertThat(deleted).singleElement().asString().contains("\"method\":\"DELETE\"").contains("\"url\":\"Flag/since-b\"")
        .contains("\"type\":\"transaction\"");
  }

  @Test
  void chain_of_since_exports_under_concurrent_writes_adds_up_to_exactly_the_data() throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    Random random = new Random(7);
    Thread writer = Thread.ofVirtual().start(() -> {
      int n = 0;
      while (!stop.get()) {
        String id = "chain-" + random.nextInt(40);
        if (random.nextInt(5) == 0) {
          client.delete("Device/" + id);
        } else {
          client.put("Device/" + id, "{\"resourceType\":\"Device\",\"id\":\"" + id + "\",\"note\":[{\"text\":\"" + (n++) + "\"}]}");
        }
      }
    });
    Map<String, String> replica = new HashMap<>();
    String since = null;
    for (int round = 0; round < 6; round++) {
      JsonNode m = client.manifest("$export?_type=Device" + (since == null ? "" : "&_since=" + since));
      Set<String> seen = new HashSet<>();
      for (String line : client.lines(m, "output", "Device")) {
        String id = ExportClient.id(line);
        assertThat(seen.add(id)).as("written twice: " + id).isTrue();
        replica.put(id, ExportClient.read(line).get("meta").get("versionId").asText());
      }
      if (m.has("deleted")) {
        for (String bundle : client.lines(m, "deleted", "Bundle")) {
          for (JsonNode e : ExportClient.read(bundle).get("entry")) {
            String url = e.get("request").get("url").asText();
            assertThat(seen).as("both written and deleted: " + url).doesNotContain(url.substring("Device/".length()));
            replica.remove(url.substring("Device/".length()));
          }
        }
      }
      since = m.get("transactionTime").asText();
      if (round == 4) {
        stop.set(true);
        writer.join();
      }
    }
    Map<String, String> truth = new HashMap<>();
    for (int i = 0; i < 40; i++) {
      var r = client.get("Device/chain-" + i);
      if (r.statusCode() == 200) {
        truth.put("chain-" + i, ExportClient.read(r.body()).get("meta").get("versionId").asText());
      }
    }
    assertThat(truth).isNotEmpty();
    assertThat(replica).isEqualTo(truth);
  }

  private static String flagOf(String id, String subject, String text) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"status\":\"active\",\"code\":{\"text\":\"" + text
        + "\"},\"subject\":{\"reference\":\"" + subject + "\"}}";
  }

  /**
   * Writes Flags of {@code member} and {@code other} (subject references), kicks off each of
   * {@code paths}, and while their planning waits deletes one of the member's Flags, moves one
   * to {@code other}, moves one of other's to {@code member} and updates one in place. Returns
   * the Flags of each export whose ids start with {@code prefix}, by id.
   */
  private List<Map<String, String>> exportAcrossCompartmentChanges(String prefix, String member, String other,
      String... paths) throws Exception {
    client.put("Flag/" + prefix + "kept", flagOf(prefix + "kept", member, "before"));
    client.put("Flag/" + prefix + "updated", flagOf(prefix + "updated", member, "before"));
    client.put("Flag/" + prefix + "deleted", flagOf(prefix + "deleted", member, "before"));
    client.put("Flag/" + prefix + "moved-out", flagOf(prefix + "moved-out", member, "before"));
    client.put("Flag/" + prefix + "moved-in", flagOf(prefix + "moved-in", other, "before"));
    client.put("Flag/" + prefix + "outside", flagOf(prefix + "outside", other, "before"));
    List<String> statuses = new java.util.ArrayList<>();
    try (Connection blocker = ExportFixture.holdTransaction()) {
      for (String path : paths) {
        statuses.add(client.start(path));
      }
      assertThat(client.put("Flag/" + prefix + "updated", flagOf(prefix + "updated", member, "after")).statusCode()).isEqualTo(200);
      assertThat(client.delete("Flag/" + prefix + "deleted").statusCode()).isLessThan(300);
      assertThat(client.put("Flag/" + prefix + "moved-out", flagOf(prefix + "moved-out", other, "after")).statusCode()).isEqualTo(200);
      assertThat(client.put("Flag/" + prefix + "moved-in", flagOf(prefix + "moved-in", member, "after")).statusCode()).isEqualTo(200);
      blocker.rollback();
    }
    List<Map<String, String>> exports = new java.util.ArrayList<>();
    for (String status : statuses) {
      var done = client.await(status);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      JsonNode m = ExportClient.read(done.body());
      List<String> lines = client.lines(m, "output", "Flag");
      assertThat(ExportClient.counts(m).getOrDefault("Flag", 0L)).isEqualTo(lines.size());
      Map<String, String> byId = new HashMap<>();
      for (String line : lines) {
        String id = ExportClient.id(line);
        assertThat(byId.put(id, line)).as("written twice: " + id).isNull();
      }
      byId.keySet().removeIf(id -> !id.startsWith(prefix));
      exports.add(byId);
    }
    return exports;
  }

  private static void assertExportedAsAtKickOff(Map<String, String> byId, String prefix) {
    assertThat(byId).containsOnlyKeys(prefix + "kept", prefix + "updated", prefix + "deleted", prefix + "moved-out");
    assertThat(byId.values()).allSatisfy(line -> assertThat(line).contains("\"versionId\":\"1\""));
  }

  @Test
  void group_export_reads_the_members_compartments_as_they_were_at_transaction_time() throws Exception {
    String prefix = "cmp-grp-";
    DeidConfigFiles.put(client, "cmp-redact.json",
        "{\"fhirPathRules\":[{\"path\":\"Flag.code.text\",\"method\":\"redact\"}]}".getBytes(StandardCharsets.UTF_8));
    var group = client.put("Group/" + prefix + "g", "{\"resourceType\":\"Group\",\"id\":\"" + prefix + "g\",\"type\":\"person\","
        + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"Patient/" + prefix + "member\"}}]}");
    List<Map<String, String>> exports = exportAcrossCompartmentChanges(prefix, "Patient/" + prefix + "member",
        "Patient/" + prefix + "other", "Group/" + prefix + "g/$export?_type=Flag",
        "Group/" + prefix + "g/$export?_type=Flag&_elements=status",
        "Group/" + prefix + "g/$export?_type=Flag&_container=cmp-deid&_anonymizationConfig=cmp-redact.json",
        // every Flag was written after the Group
        "Group/" + prefix + "g/$export?_type=Flag&_since="
            + ExportClient.read(group.body()).get("meta").get("lastUpdated").asText().replace("+", "%2B"),
        "Group/" + prefix + "g/$export?_type=Flag&_typeFilter=Flag%3Fsubject%3Amissing%3Dfalse");
    assertExportedAsAtKickOff(exports.get(0), prefix);
    assertThat(exports.get(0).get(prefix + "moved-out")).contains("before").contains("Patient/" + prefix + "member");
    // the resources judged from their content go through _elements and de-identification too
    assertThat(exports.get(1).keySet()).isEqualTo(exports.get(0).keySet());
    assertThat(exports.get(1).values()).allSatisfy(line -> assertThat(line).contains("SUBSETTED"));
    assertThat(exports.get(2).keySet()).isEqualTo(exports.get(0).keySet());
    assertThat(exports.get(2).values()).allSatisfy(line -> assertThat(line).doesNotContain("before"));
    assertThat(exports.get(3)).isEqualTo(exports.get(0));
    // the deleted Flag had a subject at transactionTime, though it has no index rows now
    assertThat(exports.get(4)).isEqualTo(exports.get(0));
  }

  @Test
  void group_export_finds_a_type_its_members_had_at_transaction_time_and_no_longer_have() throws Exception {
    // a Group export plans from its members' compartment rows now: a type whose every row left
    // them after transactionTime must still be read
    String prefix = "cmp-gone-";
    String member = "Patient/" + prefix + "member";
    client.put("Group/" + prefix + "g", "{\"resourceType\":\"Group\",\"id\":\"" + prefix + "g\",\"type\":\"person\","
        + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"" + member + "\"}}]}");
    client.put("Flag/" + prefix + "moved-out", flagOf(prefix + "moved-out", member, "before"));
    client.put("Flag/" + prefix + "deleted", flagOf(prefix + "deleted", member, "before"));
    String status;
    try (Connection blocker = ExportFixture.holdTransaction()) {
      status = client.start("Group/" + prefix + "g/$export?_type=Flag");
      assertThat(client.put("Flag/" + prefix + "moved-out", flagOf(prefix + "moved-out", "Patient/" + prefix + "other",
          "after")).statusCode()).isEqualTo(200);
      assertThat(client.delete("Flag/" + prefix + "deleted").statusCode()).isLessThan(300);
      blocker.rollback();
    }
    var done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    List<String> lines = client.lines(ExportClient.read(done.body()), "output", "Flag");
    assertThat(lines.stream().map(ExportClient::id).sorted().toList())
        .containsExactly(prefix + "deleted", prefix + "moved-out");
    assertThat(lines).allSatisfy(line -> assertThat(line).contains("\"versionId\":\"1\"").contains("before"));
  }

  @Test
  void patient_export_with_patient_parameter_reads_its_compartment_as_it_was_at_transaction_time() throws Exception {
    List<String> patients = ExportFixture.loaded().get("Patient").stream().map(ExportClient::id).sorted().toList();
    String prefix = "cmp-pat-";
    Map<String, String> byId = exportAcrossCompartmentChanges(prefix, "Patient/" + patients.get(0),
        "Patient/" + patients.get(1), "Patient/$export?_type=Flag&patient=Patient/" + patients.get(0)).getFirst();
    assertExportedAsAtKickOff(byId, prefix);
  }

  @Test
  void patient_export_reads_every_compartment_as_it_was_at_transaction_time() throws Exception {
    String prefix = "cmp-any-";
    // a Flag about a Location is in no Patient compartment
    Map<String, String> byId = exportAcrossCompartmentChanges(prefix, "Patient/" + prefix + "someone",
        "Location/" + prefix + "ward", "Patient/$export?_type=Flag").getFirst();
    assertExportedAsAtKickOff(byId, prefix);
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.TestServer;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * {@code _typeFilter} is judged on each resource's version at transactionTime: a resource
 * changed or deleted after it is kept or left out by what it was then, not by what the search
 * index (current versions) says now.
 */
class ExportTypeFilterPointInTimeTest {
  private final ExportClient client = ExportFixture.client();

  private static String typeFilter(String query) {
    return "&_typeFilter=" + URLEncoder.encode(query, StandardCharsets.UTF_8);
  }

  /** A Flag marked "in" or "out" by an identifier (Flag has no status search parameter). */
  private static String flag(String id, String mark, String subject) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:tfp\",\"value\":\""
        + mark + "\"}],\"status\":\"active\",\"code\":{\"text\":\"" + mark + " flag\"},\"subject\":{\"reference\":\""
        + subject + "\"}}";
  }

  /** Flags of one export whose ids start with {@code prefix}, by id; fails on a Flag written twice. */
  private Map<String, String> flags(String status, String prefix) {
    return flags(client, status, prefix);
  }

  private static Map<String, String> flags(ExportClient client, String status, String prefix) {
    var done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode m = ExportClient.read(done.body());
    List<String> lines = client.lines(m, "output", "Flag");
    assertThat(ExportClient.counts(m).getOrDefault("Flag", 0L)).isEqualTo(lines.size());
    Map<String, String> byId = new TreeMap<>();
    for (String line : lines) {
      String id = ExportClient.id(line);
      assertThat(byId.put(id, line)).as("written twice: " + id).isNull();
    }
    byId.keySet().removeIf(id -> !id.startsWith(prefix));
    return byId;
  }

  /** How many of the export's Flag parts hold the Flags with these ids. */
  private static long partsHolding(TestServer server, String statusUrl, String prefix, String... ids) throws Exception {
    String job = statusUrl.substring(statusUrl.lastIndexOf('/') + 1);
    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("select count(distinct p.part_no) from export_part p"
            + " join resource r on r.pk between p.pk_from and p.pk_to and r.res_type = p.res_type"
            + " where p.job_id = ?::uuid and p.res_type = 'Flag' and r.res_id = any(?)")) {
      ps.setString(1, job);
      ps.setArray(2, c.createArrayOf("text", java.util.Arrays.stream(ids).map(id -> prefix + id).toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * On a server of its own: it needs its changed Flags in different parts, and parts cut a
   * type's pk range into equal widths, so on the shared server the Flags of other tests, written
   * before and after many resources of other types, could widen the range until all of these
   * fell into one part.
   */
  @Test
  void type_filter_judges_resources_changed_after_transaction_time_as_they_were_at_every_level() throws Exception {
    try (TestServer server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> e))) {
      judgedAsTheyWere(server, new ExportClient(server));
    }
  }

  private static void judgedAsTheyWere(TestServer server, ExportClient client) throws Exception {
    String p = "tfp-";
    String member = "Patient/" + p + "member";
    DeidConfigFiles.put(client, "tfp-redact.json",
        "{\"fhirPathRules\":[{\"path\":\"Flag.code.text\",\"method\":\"redact\"}]}".getBytes(StandardCharsets.UTF_8));
    client.put("Group/" + p + "g", "{\"resourceType\":\"Group\",\"id\":\"" + p + "g\",\"type\":\"person\","
        + "\"actual\":true,\"member\":[{\"entity\":{\"reference\":\"" + member + "\"}}]}");
    // the changed Flags sit between runs of unchanged ones, so the type spans several parts
    // (about 400 resources each) and the changes fall into different ones (checked below)
    List<String> specials = List.of("stops", "starts", "deleted", "kept", "never");
    Set<String> markedBulk = new HashSet<>();
    String lastBefore = null;
    for (int run = 0; run < specials.size(); run++) {
      String special = specials.get(run);
      String mark = special.equals("starts") || special.equals("never") ? "out" : "in";
      var r = client.put("Flag/" + p + special, flag(p + special, mark, member));
      assertThat(r.statusCode()).isEqualTo(201);
      List<String> bulk = new ArrayList<>();
      for (int i = 0; i < 220; i++) {
        String id = p + "bulk-" + run + "-" + i;
        bulk.add(flag(id, i % 2 == 0 ? "in" : "out", member));
        if (i % 2 == 0) {
          markedBulk.add(id);
        }
      }
      client.putAll(bulk);
      lastBefore = ExportClient.read(client.get("Flag/" + p + "bulk-" + run + "-219").body())
          .get("meta").get("lastUpdated").asText();
    }
    String in = typeFilter("Flag?identifier=urn:tfp|in");
    String group = "Group/" + p + "g/$export?_type=Flag";
    List<String> paths = List.of(
        "$export?_type=Flag" + in,
        "Patient/$export?_type=Flag" + in,
        group + in,
        group + in + "&_elements=status",
        group + in + "&_container=tfp-deid&_anonymizationConfig=tfp-redact.json",
        "$export?_type=Flag" + typeFilter("Flag?_lastUpdated=le" + URLEncoder.encode(lastBefore, StandardCharsets.UTF_8)));
    List<String> statuses = new ArrayList<>();
    try (Connection blocker = ExportFixture.holdTransaction(server)) {
      for (String path : paths) {
        statuses.add(client.start(path));
      }
      assertThat(client.put("Flag/" + p + "stops", flag(p + "stops", "out", member)).statusCode()).isEqualTo(200);
      assertThat(client.put("Flag/" + p + "starts", flag(p + "starts", "in", member)).statusCode()).isEqualTo(200);
      assertThat(client.delete("Flag/" + p + "deleted").statusCode()).isLessThan(300);
      assertThat(client.put("Flag/" + p + "created", flag(p + "created", "in", member)).statusCode()).isEqualTo(201);
      blocker.rollback();
    }
    Set<String> expected = new HashSet<>(markedBulk);
    expected.addAll(List.of(p + "stops", p + "deleted", p + "kept"));
    for (int i = 0; i < 5; i++) {
      Map<String, String> byId = flags(client, statuses.get(i), p);
      assertThat(byId.keySet()).as(paths.get(i)).isEqualTo(expected);
      assertThat(byId.values()).as(paths.get(i)).allSatisfy(line -> assertThat(line).contains("\"versionId\":\"1\""));
      if (i < 3) {
        assertThat(byId.get(p + "stops")).contains("\"value\":\"in\"").contains("in flag");
      }
    }
    // the changed Flags were judged in different parts, in parallel
    assertThat(partsHolding(server, statuses.getFirst(), p, "stops", "starts", "deleted")).isGreaterThan(1);
    Map<String, String> subset = flags(client, statuses.get(3), p);
    assertThat(subset.values()).allSatisfy(line -> assertThat(line).contains("SUBSETTED"));
    Map<String, String> deidentified = flags(client, statuses.get(4), p);
    assertThat(deidentified.values()).allSatisfy(line -> assertThat(line).doesNotContain("flag"));
    // _lastUpdated too is that of the version at transactionTime: the Flags changed since count as unchanged
    Map<String, String> byTime = flags(client, statuses.get(5), p);
    assertThat(byTime).hasSize(5 + 5 * 220).doesNotContainKey(p + "created");
    assertThat(byTime.keySet()).contains(p + "stops", p + "starts", p + "deleted");
  }

  @Test
  void a_chained_filter_follows_the_reference_the_resource_had_at_transaction_time() throws Exception {
    String p = "tfc-";
    client.put("Location/" + p + "a", "{\"resourceType\":\"Location\",\"id\":\"" + p + "a\",\"name\":\"WardA\"}");
    client.put("Location/" + p + "b", "{\"resourceType\":\"Location\",\"id\":\"" + p + "b\",\"name\":\"WardB\"}");
    String a = "Location/" + p + "a";
    String b = "Location/" + p + "b";
    client.put("Flag/" + p + "stays", flag(p + "stays", "in", a));
    client.put("Flag/" + p + "moved-away", flag(p + "moved-away", "in", a));
    client.put("Flag/" + p + "moved-here", flag(p + "moved-here", "in", b));
    client.put("Flag/" + p + "gone", flag(p + "gone", "in", a));
    String status;
    try (Connection blocker = ExportFixture.holdTransaction()) {
      status = client.start("$export?_type=Flag" + typeFilter("Flag?subject:Location.name=WardA"));
      client.put("Flag/" + p + "moved-away", flag(p + "moved-away", "in", b));
      client.put("Flag/" + p + "moved-here", flag(p + "moved-here", "in", a));
      client.delete("Flag/" + p + "gone");
      blocker.rollback();
    }
    Map<String, String> byId = flags(status, p);
    assertThat(byId).containsOnlyKeys(p + "stays", p + "moved-away", p + "gone");
    assertThat(byId.get(p + "moved-away")).contains(a);
  }

  /** One version of a Device, read straight from resource_version: the oracle of the chain test. */
  private record Version(int version, Instant lastUpdated, boolean deleted, boolean active) {}

  private static Map<String, List<Version>> deviceHistory(String prefix) throws Exception {
    Map<String, List<Version>> history = new HashMap<>();
    try (Connection c = ExportFixture.app().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("select res_id, version, last_updated, deleted, content"
            + " from resource_version where res_type = 'Device' and res_id like ? order by res_id, version")) {
      ps.setString(1, prefix + "%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          boolean deleted = rs.getBoolean(4);
          boolean active = !deleted
              && ExportClient.read(new String(rs.getBytes(5), StandardCharsets.UTF_8)).get("status").asText().equals("active");
          history.computeIfAbsent(rs.getString(1), k -> new ArrayList<>())
              .add(new Version(rs.getInt(2), rs.getTimestamp(3).toInstant(), deleted, active));
        }
      }
    }
    return history;
  }

  /** The version of a resource current at {@code t}, or null when it did not exist yet. */
  private static Version at(List<Version> versions, Instant t) {
    Version current = null;
    for (Version v : versions) {
      if (!v.lastUpdated().isAfter(t)) {
        current = v;
      }
    }
    return current;
  }

  @Test
  void chain_of_since_exports_with_a_filter_under_concurrent_writes_holds_exactly_the_matching_changes()
      throws Exception {
    String prefix = "tfchain-";
    AtomicBoolean stop = new AtomicBoolean();
    Random random = new Random(11);
    Thread writer = Thread.ofVirtual().start(() -> {
      int n = 0;
      while (!stop.get()) {
        String id = prefix + random.nextInt(40);
        if (random.nextInt(5) == 0) {
          client.delete("Device/" + id);
        } else {
          client.put("Device/" + id, "{\"resourceType\":\"Device\",\"id\":\"" + id + "\",\"status\":\""
              + (random.nextBoolean() ? "active" : "inactive") + "\",\"note\":[{\"text\":\"" + (n++) + "\"}]}");
        }
      }
    });
    List<Instant> times = new ArrayList<>();
    List<Map<String, Integer>> outputs = new ArrayList<>();
    List<Set<String>> deletions = new ArrayList<>();
    String since = null;
    for (int round = 0; round < 6; round++) {
      String status;
      try (Connection blocker = ExportFixture.holdTransaction()) {
        status = client.start("$export?_type=Device" + typeFilter("Device?status=active")
            + (since == null ? "" : "&_since=" + since.replace("+", "%2B")));
        // the export waits for this transaction while the writer goes on: versions at its
        // transactionTime are replaced before its scan, which must judge them as they were
        ExportClient.sleep(150);
        blocker.rollback();
      }
      var done = client.await(status);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      JsonNode m = ExportClient.read(done.body());
      Map<String, Integer> output = new HashMap<>();
      for (String line : client.lines(m, "output", "Device")) {
        JsonNode r = ExportClient.read(line);
        assertThat(output.put(r.get("id").asText(), r.get("meta").get("versionId").asInt()))
            .as("written twice: " + line).isNull();
      }
      Set<String> deleted = new HashSet<>();
      if (m.has("deleted")) {
        for (String bundle : client.lines(m, "deleted", "Bundle")) {
          for (JsonNode e : ExportClient.read(bundle).get("entry")) {
            deleted.add(e.get("request").get("url").asText().substring("Device/".length()));
          }
        }
      }
      output.keySet().removeIf(id -> !id.startsWith(prefix));
      deleted.removeIf(id -> !id.startsWith(prefix));
      outputs.add(output);
      deletions.add(deleted);
      since = m.get("transactionTime").asText();
      times.add(OffsetDateTime.parse(since).toInstant());
      if (round == 4) {
        stop.set(true);
        writer.join();
      }
    }
    Map<String, List<Version>> history = deviceHistory(prefix);
    int replacedSince = 0;
    for (int round = 0; round < times.size(); round++) {
      Instant t = times.get(round);
      Instant previous = round == 0 ? null : times.get(round - 1);
      Map<String, Integer> expected = new HashMap<>();
      Set<String> expectedDeleted = new HashSet<>();
      for (var e : history.entrySet()) {
        Version v = at(e.getValue(), t);
        if (v == null || (previous != null && !v.lastUpdated().isAfter(previous))) {
          continue;
        }
        if (v.deleted()) {
          if (previous != null) {
            expectedDeleted.add(e.getKey());
          }
        } else if (v.active()) {
          expected.put(e.getKey(), v.version());
        }
        if (!v.deleted() && v.version() < e.getValue().getLast().version()) {
          replacedSince++;
        }
      }
      assertThat(outputs.get(round)).as("round " + round).isEqualTo(expected);
      assertThat(deletions.get(round)).as("deleted, round " + round).isEqualTo(expectedDeleted);
    }
    assertThat(history).isNotEmpty();
    assertThat(replacedSince).isPositive();
    assertThat(outputs).anySatisfy(output -> assertThat(output).isNotEmpty());
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.ChildServer;
import dev.sluice.testing.Fixtures;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * A Group's small types share parts (the fixed cost of a part paid once for several types):
 * the files hold exactly what the level selects, per type, as parts of one type each would,
 * and a shared part redone after its lease lapsed writes the same lines again.
 */
class ExportSharedPartsTest {
  /** The population's types that a Patient compartment holds. */
  private static final List<String> TYPES = ExportClient.SMALL_TYPES.stream()
      .filter(t -> !t.equals("Organization") && !t.equals("Practitioner")).toList();

  @Test
  void a_group_of_two_patients_shares_parts_among_its_small_types_and_exports_exactly_their_compartments()
      throws Exception {
    ExportClient client = ExportFixture.client();
    List<String> members = firstPatients(ExportFixture.loaded(), 2);
    putGroup(client, "shared-two", members);
    String status = client.start("Group/shared-two/$export?_type=" + String.join(",", TYPES));
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode manifest = ExportClient.read(done.body());
    DataSource db = ExportFixture.app().dataSource();
    Map<String, List<String>> expected = expected(db, members);
    assertExactly(client, manifest, expected);
    try (Connection c = db.getConnection()) {
      UUID job = job(status);
      long shared = count(c, "select count(*) from export_part where job_id = ? and res_types is not null", job);
      long resourceParts = count(c, "select count(*) from export_part where job_id = ? and kind = 'resources'", job);
      assertThat(shared).as("parts shared by small types").isPositive();
      assertThat(resourceParts).as("fewer parts than types with rows").isLessThan(expected.size());
      // every member is on this server and nothing was left out: no notes to write, no part to write them
      assertThat(count(c, "select count(*) from export_part where job_id = ? and kind = 'notes'", job)).isZero();
    }
    assertThat(manifest.get("error")).isEmpty();
  }

  @Test
  void a_shared_part_with_a_type_filter_on_one_of_its_types_exports_that_type_filtered_and_the_others_whole()
      throws Exception {
    // with _typeFilter the shared COPY is a UNION ALL of a branch per type, each with its own filter
    ExportClient client = ExportFixture.client();
    List<String> members = firstPatients(ExportFixture.loaded(), 2);
    putGroup(client, "shared-filtered", members);
    String status = client.start("Group/shared-filtered/$export?_type=" + String.join(",", TYPES)
        + "&_typeFilter=" + java.net.URLEncoder.encode("Patient?_id=" + members.get(1), java.nio.charset.StandardCharsets.UTF_8));
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    Map<String, List<String>> expected = expected(ExportFixture.app().dataSource(), members);
    expected.put("Patient", List.of(members.get(1)));
    assertExactly(client, ExportClient.read(done.body()), expected);
    try (Connection c = ExportFixture.app().dataSource().getConnection()) {
      assertThat(count(c, "select count(*) from export_part where job_id = ? and 'Patient' = any(res_types)",
          job(status))).as("Patient in a shared part").isEqualTo(1);
    }
  }

  @Test
  void a_shared_part_redone_after_its_lease_lapsed_writes_the_same_lines() throws Exception {
    Path dir = ExportFixture.tempDir();
    int port = ChildServer.freePort();
    String[] flags = {"--export-lease", "3", "--export-part-size", "300", "--export-max-file-resources", "200"};
    String path = "Group/shared-lapse/$export?_type=" + String.join(",", TYPES);
    List<String> members;
    String status;
    try (ChildServer first = ChildServer.start(dir, port, flags)) {
      ExportClient c = new ExportClient(first.base());
      members = firstPatients(c.load(Fixtures.small(), TYPES), 3);
      putGroup(c, "shared-lapse", members);
      try (Connection lock = first.dataSource().getConnection();
          Connection watch = first.dataSource().getConnection()) {
        // the planning reads resource_version, so the parts are held at their first file instead
        status = ScanBlocker.startBlocked(c, first.dataSource(), lock, path, "export_file");
        // both workers hold a claimed part: the first parts claimed are the shared ones
        ScanBlocker.awaitLockWaits(watch, 2, "%export_file%");
        first.kill();
        lock.rollback();
      }
    }
    try (ChildServer second = ChildServer.start(dir, port, flags)) {
      ExportClient c = new ExportClient(second.base());
      HttpResponse<String> done = c.await(status);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      JsonNode redone = ExportClient.read(done.body());
      Map<String, List<String>> expected = expected(second.dataSource(), members);
      assertExactly(c, redone, expected);
      try (Connection db = second.dataSource().getConnection()) {
        assertThat(count(db, "select max(attempt) from export_part where job_id = ? and res_types is not null",
            job(status))).as("a shared part was taken over from the dead process").isGreaterThan(1);
      }
      // the same lines, byte for byte, as an export of the same Group that nothing interrupted
      JsonNode again = c.manifest(path);
      for (String type : expected.keySet()) {
        assertThat(sorted(c.lines(redone, "output", type))).as(type).isEqualTo(sorted(c.lines(again, "output", type)));
      }
    }
  }

  @Test
  void a_shared_part_exports_its_resources_changed_or_deleted_after_the_kick_off_as_they_were_then()
      throws Exception {
    Path dir = ExportFixture.tempDir();
    String path = "Group/shared-changed/$export?_type=" + String.join(",", TYPES);
    try (ChildServer server = ChildServer.start(dir, ChildServer.freePort())) {
      ExportClient c = new ExportClient(server.base());
      List<String> members = firstPatients(c.load(Fixtures.small(), TYPES), 2);
      putGroup(c, "shared-changed", members);
      Map<String, List<String>> expected = expected(server.dataSource(), members);
      // the members' two smallest types but Patient: packed into a shared part
      List<String[]> changed = new ArrayList<>();
      try (Connection db = server.dataSource().getConnection(); PreparedStatement ps = db.prepareStatement(
          """
          select distinct on (r.res_type) r.res_type, r.res_id, n
            from resource r join compartment k on k.res_pk = r.pk
            join (select res_type, count(*) n from compartment where patient_id = any(?) group by res_type) t
              on t.res_type = r.res_type
           where k.patient_id = any(?) and r.res_type = any(?) and r.res_type <> 'Patient' and not r.deleted
           order by r.res_type, r.res_id
          """)) {
        ps.setArray(1, db.createArrayOf("text", members.toArray()));
        ps.setArray(2, db.createArrayOf("text", members.toArray()));
        ps.setArray(3, db.createArrayOf("text", TYPES.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            changed.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3)});
          }
        }
      }
      changed.sort(java.util.Comparator.comparingLong((String[] r) -> Long.parseLong(r[2])).thenComparing(r -> r[0]));
      String[] updated = changed.get(0);
      String[] deleted = changed.get(1);
      String status;
      try (Connection lock = server.dataSource().getConnection();
          Connection watch = server.dataSource().getConnection()) {
        // held at its planning (which writes export_member), after the kick-off fixed transactionTime
        status = ScanBlocker.startBlocked(c, server.dataSource(), lock, path, "export_member");
        ScanBlocker.awaitLockWaits(watch, 1, "%export_member%");
        String current = c.get(updated[0] + "/" + updated[1]).body();
        assertThat(c.put(updated[0] + "/" + updated[1], current).statusCode()).isEqualTo(200);
        assertThat(c.delete(deleted[0] + "/" + deleted[1]).statusCode()).isIn(200, 204);
        lock.rollback();
      }
      HttpResponse<String> done = c.await(status);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      JsonNode manifest = ExportClient.read(done.body());
      assertExactly(c, manifest, expected);
      for (String line : c.lines(manifest, "output", updated[0])) {
        if (ExportClient.id(line).equals(updated[1])) {
          assertThat(ExportClient.read(line).at("/meta/versionId").asText()).as("the version at kick-off").isEqualTo("1");
        }
      }
      try (Connection db = server.dataSource().getConnection(); PreparedStatement ps = db.prepareStatement(
          "select count(*) from export_part where job_id = ? and ? = any(res_types) and ? = any(res_types)")) {
        ps.setObject(1, job(status));
        ps.setString(2, updated[0]);
        ps.setString(3, deleted[0]);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getLong(1)).as("both changed types in one shared part").isEqualTo(1);
        }
      }
    }
  }

  private static List<String> firstPatients(Map<String, List<String>> loaded, int n) {
    return loaded.get("Patient").stream().map(ExportClient::id).sorted().limit(n).toList();
  }

  private static void putGroup(ExportClient client, String id, List<String> members) {
    StringBuilder json = new StringBuilder("{\"resourceType\":\"Group\",\"id\":\"" + id
        + "\",\"type\":\"person\",\"actual\":true,\"member\":[");
    for (int i = 0; i < members.size(); i++) {
      json.append(i == 0 ? "" : ",").append("{\"entity\":{\"reference\":\"Patient/").append(members.get(i)).append("\"}}");
    }
    HttpResponse<String> r = client.put("Group/" + id, json.append("]}").toString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  /** Per type, the ids in the members' compartments, from the compartment table. */
  private static Map<String, List<String>> expected(DataSource db, List<String> members) throws Exception {
    Map<String, List<String>> ids = new TreeMap<>();
    try (Connection c = db.getConnection(); PreparedStatement ps = c.prepareStatement(
        "select distinct r.res_type, r.res_id from resource r join compartment k on k.res_pk = r.pk"
            + " where not r.deleted and k.patient_id = any(?) and r.res_type = any(?)")) {
      ps.setArray(1, c.createArrayOf("text", members.toArray()));
      ps.setArray(2, c.createArrayOf("text", TYPES.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.computeIfAbsent(rs.getString(1), t -> new ArrayList<>()).add(rs.getString(2));
        }
      }
    }
    ids.values().forEach(l -> l.sort(null));
    return ids;
  }

  /** Every type's files hold its expected ids once each, and the manifest's counts say so. */
  private static void assertExactly(ExportClient client, JsonNode manifest, Map<String, List<String>> expected) {
    Map<String, Long> counts = new HashMap<>();
    expected.forEach((type, ids) -> counts.put(type, (long) ids.size()));
    assertThat(ExportClient.counts(manifest)).isEqualTo(counts);
    for (String type : expected.keySet()) {
      List<String> exported = sorted(client.lines(manifest, "output", type).stream().map(ExportClient::id).toList());
      assertThat(exported).as(type).isEqualTo(expected.get(type));
    }
  }

  private static List<String> sorted(List<String> lines) {
    List<String> copy = new ArrayList<>(lines);
    copy.sort(null);
    return copy;
  }

  private static UUID job(String status) {
    return UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
  }

  private static long count(Connection c, String sql, UUID job) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, job);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}

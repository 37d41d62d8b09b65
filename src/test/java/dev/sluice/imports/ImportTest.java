package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code $import} over real HTTP into a real server, inputs from its import folder. */
class ImportTest {
  private static TestServer server;
  private static ImportClient client;

  @BeforeAll
  static void start() {
    server = TestServer.startFresh();
    client = new ImportClient(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String patient(String id, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  private static String patient(String id, String version, String lastUpdated, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\"" + version
        + "\",\"lastUpdated\":\"" + lastUpdated + "\"},\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  private static String deletedPatient(String id, String version, String lastUpdated, String family) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\"" + version
        + "\",\"lastUpdated\":\"" + lastUpdated + "\",\"extension\":[{\"url\":\"" + ImportClient.DELETED_STATE
        + "\",\"valueString\":\"soft-deleted\"}]},\"name\":[{\"family\":\"" + family + "\"}]}";
  }

  @Test
  void import_of_a_synthea_file_keeps_ids_and_makes_them_searchable() {
    List<String> lines = Fixtures.ndjson(Fixtures.small(), "Patient");
    client.write("synthea/Patient.ndjson", lines);
    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "synthea/Patient.ndjson", "Patient"));

    assertThat(ImportClient.imported(result)).isEqualTo(lines.size());
    assertThat(result.get("error")).isEmpty();
    assertThat(result.get("output").get(0).get("inputUrl").asText()).isEqualTo("synthea/Patient.ndjson");
    // to the millisecond, as an export's manifest (docs/import.md)
    assertThat(result.get("transactionTime").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{3})?Z");
    String id = ImportClient.read(lines.get(3)).get("id").asText();
    HttpResponse<String> read = server.get("Patient/" + id);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(ImportClient.read(read.body()).get("meta").get("versionId").asText()).isEqualTo("1");
    String family = ImportClient.read(lines.get(3)).get("name").get(0).get("family").asText();
    HttpResponse<String> search = server.get("Patient?_id=" + id + "&family=" + family);
    assertThat(ImportClient.read(search.body()).path("entry").size()).isEqualTo(1);
  }

  @Test
  void given_versionId_and_lastUpdated_are_kept() {
    client.write("kept.ndjson", List.of(patient("imp-kept", "7", "2019-03-04T05:06:07.891Z", "Kept")));
    client.run(ImportClient.request("IncrementalLoad", "kept.ndjson", "Patient"));
    JsonNode read = ImportClient.read(server.get("Patient/imp-kept").body());
    assertThat(read.get("meta").get("versionId").asText()).isEqualTo("7");
    assertThat(read.get("meta").get("lastUpdated").asText()).isEqualTo("2019-03-04T05:06:07.891+00:00");
    assertThat(server.get("Patient/imp-kept/_history/7").statusCode()).isEqualTo(200);
  }

  @Test
  void several_versions_in_any_order_become_the_history_and_the_soft_delete_marker_a_deleted_version() {
    client.write("history.ndjson", List.of(
        patient("imp-h", "2", "2020-01-02T00:00:00.000Z", "Second"),
        patient("imp-h", "1", "2020-01-01T00:00:00.000Z", "First"),
        deletedPatient("imp-h", "3", "2020-01-03T00:00:00.000Z", "Second"),
        patient("imp-h2", "1", "2020-01-01T00:00:00.000Z", "Only"),
        patient("imp-h2", "2", "2020-02-01T00:00:00.000Z", "Later")));
    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "history.ndjson", "Patient"));
    assertThat(ImportClient.imported(result)).isEqualTo(5);

    assertThat(server.get("Patient/imp-h").statusCode()).isEqualTo(410);
    JsonNode history = ImportClient.read(server.get("Patient/imp-h/_history").body());
    // newest first: the deletion (no resource), then versions 2 and 1
    JsonNode entries = history.get("entry");
    assertThat(entries).hasSize(3);
    assertThat(entries.get(0).has("resource")).isFalse();
    assertThat(entries.get(1).get("resource").get("meta").get("versionId").asText()).isEqualTo("2");
    assertThat(entries.get(2).get("resource").get("meta").get("versionId").asText()).isEqualTo("1");
    assertThat(server.get("Patient/imp-h/_history/3").statusCode()).isEqualTo(410);
    JsonNode v1 = ImportClient.read(server.get("Patient/imp-h/_history/1").body());
    assertThat(v1.get("name").get(0).get("family").asText()).isEqualTo("First");
    assertThat(v1.get("meta").get("lastUpdated").asText()).isEqualTo("2020-01-01T00:00:00.000+00:00");
    JsonNode h2 = ImportClient.read(server.get("Patient/imp-h2").body());
    assertThat(h2.get("meta").get("versionId").asText()).isEqualTo("2");
    assertThat(h2.get("name").get(0).get("family").asText()).isEqualTo("Later");
    // the search index follows the current version only
    assertThat(ImportClient.read(server.get("Patient?family=Later&_id=imp-h2").body()).path("entry").size()).isEqualTo(1);
    assertThat(ImportClient.read(server.get("Patient?family=Only&_id=imp-h2").body()).path("entry").size()).isEqualTo(0);
    assertThat(ImportClient.read(server.get("Patient?_id=imp-h").body()).path("entry").size()).isEqualTo(0);
  }

  /**
   * InitialLoad stages histories as IncrementalLoad writes them: a later batch's version replaces
   * the staged index rows of a resource staged by an earlier batch, a soft delete removes them.
   */
  @Test
  void an_initial_load_keeps_histories_across_batches_and_indexes_the_current_versions() {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= 1100; i++) {
      lines.add(practitioner("pr-" + i, "1", "2020-01-01T00:00:00.000Z", "First" + i, false));
    }
    lines.add(practitioner("pr-1", "2", "2020-02-01T00:00:00.000Z", "Second", false));
    lines.add(practitioner("pr-2", "2", "2020-02-01T00:00:00.000Z", "First2", true));
    client.write("practitioners.ndjson", lines);

    JsonNode result = client.run(ImportClient.request("InitialLoad", "practitioners.ndjson", "Practitioner"));

    assertThat(ImportClient.imported(result)).isEqualTo(1102);
    assertThat(result.get("error")).isEmpty();
    assertThat(ImportClient.read(server.get("Practitioner?_summary=count").body()).path("total").asLong())
        .isEqualTo(1099);
    assertThat(ImportClient.read(server.get("Practitioner?family=Second").body()).path("entry").size()).isEqualTo(1);
    assertThat(ImportClient.read(server.get("Practitioner?family:exact=First1").body()).path("entry").size())
        .isZero();
    assertThat(ImportClient.read(server.get("Practitioner?family:exact=First2").body()).path("entry").size())
        .isZero();
    assertThat(ImportClient.read(server.get("Practitioner?family:exact=First1100").body()).path("entry").size())
        .isEqualTo(1);
    assertThat(server.get("Practitioner/pr-2").statusCode()).isEqualTo(410);
    assertThat(ImportClient.read(server.get("Practitioner/pr-1/_history").body()).path("entry").size()).isEqualTo(2);
  }

  private static String practitioner(String id, String version, String lastUpdated, String family, boolean deleted) {
    return "{\"resourceType\":\"Practitioner\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\"" + version
        + "\",\"lastUpdated\":\"" + lastUpdated + "\"" + (deleted ? ",\"extension\":[{\"url\":\""
        + ImportClient.DELETED_STATE + "\",\"valueString\":\"soft-deleted\"}]" : "") + "},\"name\":[{\"family\":\""
        + family + "\"}]}";
  }

  @Test
  void two_inputs_creating_the_same_resource_at_once_both_land_without_a_retry_of_their_parts() throws Exception {
    // an export's current file and its history file hold versions of the same new resource
    client.write("race/current.ndjson", List.of(patient("imp-race", "2", "2022-01-02T00:00:00.000Z", "Current")));
    client.write("race/history.ndjson", List.of(patient("imp-race", "1", "2022-01-01T00:00:00.000Z", "Earlier")));
    JsonNode result;
    try (Connection hold = server.app().dataSource().getConnection();
        Connection watch = server.app().dataSource().getConnection()) {
      // an uncommitted row with the resource's key: both batches wait for it at their insert,
      // and when it goes away one of them creates the resource while the other still waits
      hold.setAutoCommit(false);
      hold.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
          + " values ('Patient', 'imp-race', 1, now(), false)");
      String status = client.start(ImportClient.request("IncrementalLoad",
          "race/current.ndjson", "Patient", "race/history.ndjson", "Patient"));
      awaitInsertsWaiting(watch, 2);
      hold.rollback();
      result = client.await(status);
    }
    assertThat(result.get("error")).as(result.toString()).isEmpty();
    assertThat(ImportClient.imported(result)).isEqualTo(2);
    JsonNode history = ImportClient.read(server.get("Patient/imp-race/_history").body());
    assertThat(history.get("entry")).hasSize(2);
    assertThat(ImportClient.read(server.get("Patient/imp-race").body()).get("name").get(0).get("family").asText())
        .isEqualTo("Current");
    // the batch that lost the race was written again at once, not after its part's lease lapsed
    try (Connection c = server.app().dataSource().getConnection();
        ResultSet rs = c.createStatement().executeQuery(
            "select max(attempt) from import_part where input_url like 'race/%'")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(1);
    }
  }

  @Test
  void two_inputs_creating_the_same_resource_at_once_in_an_initial_load_both_land_without_a_retry_of_their_parts()
      throws Exception {
    String current = "{\"resourceType\":\"Location\",\"id\":\"imp-race-loc\",\"meta\":{\"versionId\":\"2\","
        + "\"lastUpdated\":\"2022-01-02T00:00:00.000Z\"},\"name\":\"Current\"}";
    client.write("race-initial/current.ndjson", List.of(current));
    client.write("race-initial/history.ndjson", List.of(current.replace("\"2\"", "\"1\"")
        .replace("2022-01-02", "2022-01-01").replace("Current", "Earlier")));
    JsonNode result;
    try (Connection hold = server.app().dataSource().getConnection();
        Connection watch = server.app().dataSource().getConnection()) {
      // the staged keys' sequence, held: both batches have found no such resource in the stage and
      // wait to insert it; let go, one creates it while the other still waits
      hold.setAutoCommit(false);
      hold.createStatement().execute("alter sequence " + sequence(hold) + " cache 1");
      String status = client.start(ImportClient.request("InitialLoad",
          "race-initial/current.ndjson", "Location", "race-initial/history.ndjson", "Location"));
      awaitWaiting(watch, "%insert into import_stage_%resource (pk%", 2);
      hold.rollback();
      result = client.await(status);
    }
    assertThat(result.get("error")).as(result.toString()).isEmpty();
    assertThat(ImportClient.imported(result)).isEqualTo(2);
    assertThat(ImportClient.read(server.get("Location/imp-race-loc/_history").body()).get("entry")).hasSize(2);
    assertThat(ImportClient.read(server.get("Location/imp-race-loc").body()).get("name").asText()).isEqualTo("Current");
    try (Connection c = server.app().dataSource().getConnection();
        ResultSet rs = c.createStatement().executeQuery(
            "select max(attempt) from import_part where input_url like 'race-initial/%'")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(1);
    }
  }

  private static String sequence(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery("select pg_get_serial_sequence('resource', 'pk')")) {
      rs.next();
      return rs.getString(1);
    }
  }

  static void awaitWaiting(Connection c, String query, int n) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery("select count(*) from pg_stat_activity"
          + " where wait_event_type = 'Lock' and query like '" + query + "'")) {
        rs.next();
        if (rs.getLong(1) >= n) {
          return;
        }
      }
      assertThat(System.nanoTime()).as(n + " statements waiting in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void cancel_stops_the_import_before_its_next_batch_and_keeps_what_was_imported() throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= 2500; i++) {
      lines.add(patient("can-" + i, "Cancelled" + i));
    }
    client.write("cancel/patients.ndjson", lines);
    String status;
    try (Connection hold = server.app().dataSource().getConnection();
        Connection watch = server.app().dataSource().getConnection()) {
      // the second batch (lines 1001-2000) waits for an uncommitted row of one of its resources
      hold.setAutoCommit(false);
      hold.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
          + " values ('Patient', 'can-1500', 1, now(), false)");
      status = client.start(ImportClient.request("IncrementalLoad", "cancel/patients.ndjson",
          "Patient"));
      awaitCheckpoint(watch, "cancel/patients.ndjson", 1001);
      awaitInsertsWaiting(watch, 1);

      HttpResponse<String> cancel = server.delete(status);
      assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(202);
      hold.rollback();
      awaitNoOtherTransaction(watch);
    }
    assertThat(server.get(status).statusCode()).isEqualTo(404);
    assertThat(server.delete(status).statusCode()).isEqualTo(404);
    // the first batch stays; the held one was rolled back at its fence; none came after
    assertThat(server.get("Patient/can-1").statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/can-1000").statusCode()).isEqualTo(200);
    for (String id : List.of("can-1001", "can-1500", "can-2000", "can-2001", "can-2500")) {
      assertThat(server.get("Patient/" + id).statusCode()).as(id).isEqualTo(404);
    }
    try (Connection c = server.app().dataSource().getConnection();
        ResultSet rs = c.createStatement().executeQuery(
            "select p.next_line, p.status, j.expires_at - j.finished_at from import_part p"
                + " join import_job j on j.id = p.job_id where p.input_url = 'cancel/patients.ndjson'")) {
      rs.next();
      assertThat(rs.getLong(1)).isEqualTo(1001);
      assertThat(rs.getString(2)).isNotEqualTo("done");
      // a cancelled job is removed one lease (--export-lease, 30 s) later, as a cancelled export
      assertThat(rs.getString(3)).isEqualTo("00:00:30");
    }
  }

  @Test
  void a_finished_import_expires_as_an_export_does_and_is_then_removed_with_its_error_file() throws Exception {
    client.write("expiry/in.ndjson", List.of(patient("imp-exp", "Stays"), "{not json"));
    String status = client.start(ImportClient.request("IncrementalLoad", "expiry/in.ndjson", "Patient"));
    JsonNode result = client.await(status);
    String id = ImportClient.jobId(status);
    String errorFile = result.get("error").get(0).get("url").asText();
    assertThat(server.get(errorFile).statusCode()).isEqualTo(200);

    // Expires: --export-retention (one day by default) after the job ended, as an export's manifest
    HttpResponse<String> done = server.get(status);
    Instant expires = java.time.ZonedDateTime.parse(done.headers().firstValue("Expires").orElseThrow(),
        java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
    try (Connection c = server.app().dataSource().getConnection();
        ResultSet rs = c.createStatement().executeQuery(
            "select finished_at, expires_at from import_job where id = '" + id + "'")) {
      rs.next();
      Instant finished = rs.getTimestamp(1).toInstant();
      Instant at = rs.getTimestamp(2).toInstant();
      assertThat(Duration.between(finished, at)).isEqualTo(Duration.ofDays(1));
      assertThat(expires).isEqualTo(at.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    }

    try (Connection c = server.app().dataSource().getConnection()) {
      // the day has passed
      c.createStatement().execute("update import_job set expires_at = now() - interval '1 second' where id = '" + id + "'");
      assertThat(server.get(status).statusCode()).isEqualTo(404);
      assertThat(server.get(errorFile).statusCode()).isEqualTo(404);
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (count(c, "select count(*) from import_job where id = '" + id + "'") > 0) {
        assertThat(System.nanoTime()).as("expired job removed in time").isLessThan(deadline);
        Thread.sleep(100);
      }
      assertThat(count(c, "select count(*) from import_part where job_id = '" + id + "'")).isZero();
      assertThat(count(c, "select count(*) from import_error where job_id = '" + id + "'")).isZero();
      assertThat(count(c, "select count(*) from import_count where job_id = '" + id + "'")).isZero();
    }
    // what it imported stays
    assertThat(server.get("Patient/imp-exp").statusCode()).isEqualTo(200);
  }

  private static long count(Connection c, String sql) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Waits until the part of {@code input} committed the lines before {@code line}. */
  private static void awaitCheckpoint(Connection c, String input, long line) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (var ps = c.prepareStatement("select coalesce(max(next_line), 0) from import_part where input_url = ?")) {
        ps.setString(1, input);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(1) >= line) {
            return;
          }
        }
      }
      assertThat(System.nanoTime()).as("checkpoint " + line + " in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /**
   * Waits until no other connection is inside a transaction: the batch that was waiting (in
   * its transaction since before) has then ended, committed or rolled back.
   */
  private static void awaitNoOtherTransaction(Connection c) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery("select count(*) from pg_stat_activity"
          + " where pid <> pg_backend_pid() and backend_type = 'client backend' and xact_start is not null")) {
        rs.next();
        if (rs.getLong(1) == 0) {
          return;
        }
      }
      assertThat(System.nanoTime()).as("the held batch ended in time").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  /** Waits until {@code n} inserts of resource rows wait for a lock. */
  static void awaitInsertsWaiting(Connection c, int n) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery("select count(*) from pg_stat_activity"
          + " where wait_event_type = 'Lock' and query like '%insert into resource (res_type%'")) {
        rs.next();
        if (rs.getLong(1) >= n) {
          return;
        }
      }
      assertThat(System.nanoTime()).as(n + " inserts waiting in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /**
   * Files as Microsoft's FHIR service (and Azure API for FHIR) writes them with
   * {@code includeAssociatedData=_history,_deleted}: one file per type, every version a line in
   * write order (current, earlier and deleted versions mixed), a deletion as an empty resource
   * with the deletion's versionId and lastUpdated and the soft-delete marker.
   */
  @Test
  void an_export_in_microsofts_form_gives_the_same_history_and_deleted_state() {
    for (String type : List.of("Patient", "Observation")) {
      client.write("azure-export/" + type + "-1.ndjson",
          Fixtures.resource("azure-export/" + type + "-1.ndjson").lines().toList());
    }
    // Microsoft's inputs name their type; one without, as a client may send it
    JsonNode result = client.run(ImportClient.request("IncrementalLoad",
        "azure-export/Patient-1.ndjson", "Patient", "azure-export/Observation-1.ndjson", null));
    assertThat(result.get("error")).as(result.toString()).isEmpty();
    assertThat(ImportClient.imported(result)).isEqualTo(11);

    assertThat(versions("Patient/az-p1")).containsExactly("2 2023-03-02T09:30:00Z",
        "1 2023-03-01T08:00:00.101Z");
    JsonNode p1 = ImportClient.read(server.get("Patient/az-p1").body());
    assertThat(p1.get("name").get(0).get("given").get(0).asText()).isEqualTo("Second");
    assertThat(ImportClient.read(server.get("Patient/az-p1/_history/1").body()).get("name").get(0).get("given")
        .get(0).asText()).isEqualTo("First");
    // deleted: 410, and the deletion is a version of the history
    assertThat(server.get("Patient/az-p2").statusCode()).isEqualTo(410);
    assertThat(versions("Patient/az-p2")).containsExactly("2 2023-03-03T10:00:00Z deleted",
        "1 2023-03-01T08:00:00.102Z");
    assertThat(server.get("Patient/az-p2/_history/2").statusCode()).isEqualTo(410);
    // deleted, then created again
    assertThat(versions("Patient/az-p3")).containsExactly("3 2023-03-04T11:00:00Z",
        "2 2023-03-03T10:00:01Z deleted", "1 2023-03-01T08:00:00.103Z");
    assertThat(ImportClient.read(server.get("Patient/az-p3").body()).get("name").get(0).get("given").get(0).asText())
        .isEqualTo("Again");
    assertThat(server.get("Observation/az-o1").statusCode()).isEqualTo(410);
    assertThat(versions("Observation/az-o1")).containsExactly("3 2023-03-05T12:00:00Z deleted",
        "2 2023-03-02T09:31:00Z", "1 2023-03-01T08:05:00Z");
    JsonNode o1v2 = ImportClient.read(server.get("Observation/az-o1/_history/2").body());
    assertThat(o1v2.get("status").asText()).isEqualTo("amended");
    // the index follows the current versions: the deleted Observation is not found, the other is
    assertThat(ids("Observation?subject=Patient/az-p1")).containsExactly("az-o2");
    assertThat(ids("Patient?family=Back")).containsExactly("az-p3");
    assertThat(ids("Patient?family=Gone")).isEmpty();
    // the decimal is kept as written (61.50)
    assertThat(server.get("Observation/az-o2").body()).contains("\"value\":61.50");
  }

  /** A resource's history as "versionId lastUpdated [deleted]", newest first. */
  private static List<String> versions(String resource) {
    List<String> versions = new ArrayList<>();
    for (JsonNode e : ImportClient.read(server.get(resource + "/_history").body()).get("entry")) {
      String etag = e.get("response").get("etag").asText();
      String version = etag.substring(etag.indexOf('"') + 1, etag.lastIndexOf('"'));
      versions.add(version + " " + e.get("response").get("lastModified").asText() + (e.has("resource") ? "" : " deleted"));
    }
    return versions;
  }

  private static List<String> ids(String search) {
    List<String> ids = new ArrayList<>();
    for (JsonNode e : ImportClient.read(server.get(search).body()).path("entry")) {
      ids.add(e.get("resource").get("id").asText());
    }
    return ids;
  }

  @Test
  void importing_the_same_file_twice_changes_nothing() {
    client.write("twice.ndjson", List.of(
        patient("imp-t1", "Plain"),
        patient("imp-t2", "1", "2021-01-01T00:00:00.000Z", "Versioned"),
        patient("imp-t2", "2", "2021-01-02T00:00:00.000Z", "Versioned again")));
    String body = ImportClient.request("IncrementalLoad", "twice.ndjson", "Patient");
    client.run(body);
    JsonNode plain = ImportClient.read(server.get("Patient/imp-t1").body());
    JsonNode second = client.run(body);

    assertThat(second.get("error")).as(second.toString()).isEmpty();
    JsonNode again = ImportClient.read(server.get("Patient/imp-t1").body());
    assertThat(again.get("meta")).isEqualTo(plain.get("meta"));
    assertThat(ImportClient.read(server.get("Patient/imp-t1/_history").body()).path("entry").size()).isEqualTo(1);
    assertThat(ImportClient.read(server.get("Patient/imp-t2/_history").body()).path("entry").size()).isEqualTo(2);
  }

  @Test
  void bad_lines_go_to_the_error_file_with_their_line_numbers_and_every_other_line_is_imported() {
    List<String> lines = new ArrayList<>();
    List<Integer> bad = new ArrayList<>();
    String[] kinds = {
        "{not json",
        "[1,2,3]",
        "{\"resourceType\":\"Banana\",\"id\":\"x\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"bad id!\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"imp-b-unknown\",\"colour\":\"blue\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"imp-b-gender\",\"gender\":\"sometimes\"}",
        "{\"resourceType\":\"Observation\",\"id\":\"imp-b-type\",\"status\":\"final\",\"code\":{\"text\":\"x\"}}",
        "{\"resourceType\":\"Patient\"}",
        patient("imp-b-conflict", "1", "2021-01-01T00:00:00.000Z", "Other content"),
        "{\"resourceType\":\"Patient\",\"id\":\"imp-b-v\",\"meta\":{\"versionId\":\"abc\"}}"};
    for (int i = 0; i < 110; i++) {
      if (i % 11 == 5) {
        lines.add(kinds[bad.size()]);
        bad.add(i + 1);
      } else {
        lines.add(patient("imp-b-" + i, "Good"));
      }
    }
    // the version the conflicting line names exists with other content
    client.write("conflict.ndjson", List.of(patient("imp-b-conflict", "1", "2021-01-01T00:00:00.000Z", "Original")));
    client.run(ImportClient.request("IncrementalLoad", "conflict.ndjson", "Patient"));
    client.write("bad.ndjson", lines);

    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "bad.ndjson", "Patient"));

    assertThat(ImportClient.imported(result)).isEqualTo(100);
    assertThat(result.get("error").get(0).get("count").asInt()).isEqualTo(10);
    assertThat(result.get("error").get(0).get("inputUrl").asText()).isEqualTo("bad.ndjson");
    List<JsonNode> errors = client.errors(result);
    assertThat(errors).hasSize(10);
    for (int i = 0; i < 10; i++) {
      assertThat(errors.get(i).get("resourceType").asText()).isEqualTo("OperationOutcome");
      assertThat(errors.get(i).get("issue").get(0).get("diagnostics").asText())
          .startsWith("bad.ndjson, line " + bad.get(i) + ": ");
    }
    assertThat(server.get("Patient/imp-b-4").statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/imp-b-unknown").statusCode()).isEqualTo(404);
    assertThat(ImportClient.read(server.get("Patient/imp-b-conflict").body()).get("name").get(0).get("family").asText())
        .isEqualTo("Original");
  }

  @Test
  void gzip_inputs_are_read_and_an_unreadable_one_is_one_error() throws IOException {
    Path gz = server.dataDir().resolve("imports/in.ndjson.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write((patient("imp-gz", "Zipped") + "\n").getBytes(StandardCharsets.UTF_8));
    }
    Files.write(server.dataDir().resolve("imports/corrupt.ndjson.gz"), "this is not gzip".getBytes(StandardCharsets.UTF_8));

    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "in.ndjson.gz", "Patient",
        "corrupt.ndjson.gz", "Patient", "missing.ndjson", null));

    assertThat(ImportClient.imported(result)).isEqualTo(1);
    assertThat(server.get("Patient/imp-gz").statusCode()).isEqualTo(200);
    assertThat(result.get("error")).hasSize(2);
    List<JsonNode> errors = client.errors(result);
    assertThat(errors).hasSize(2);
    assertThat(errors.get(0).get("issue").get(0).get("diagnostics").asText()).startsWith("corrupt.ndjson.gz: ");
    assertThat(errors.get(1).get("issue").get(0).get("diagnostics").asText()).startsWith("missing.ndjson: ");
  }

  @Test
  void a_line_with_an_extreme_value_is_refused_or_imported_and_the_import_finishes() {
    String observation = "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"status\":\"final\","
        + "\"code\":{\"text\":\"x\"},%s}";
    client.write("extreme.ndjson", List.of(
        String.format(observation, "imp-x-decimal", "\"valueQuantity\":{\"value\":1e-99999}"),
        String.format(observation, "imp-x-year0", "\"effectiveDateTime\":\"0000-01-01\""),
        String.format(observation, "imp-x-zone", "\"effectiveDateTime\":\"0001-01-01T00:00:00+14:00\"")));

    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "extreme.ndjson", "Observation"));

    assertThat(ImportClient.imported(result)).isEqualTo(2);
    List<JsonNode> errors = client.errors(result);
    assertThat(errors).hasSize(1);
    assertThat(errors.getFirst().get("issue").get(0).get("diagnostics").asText())
        .startsWith("extreme.ndjson, line 1: ").contains("Observation.valueQuantity.value");
    assertThat(ImportClient.read(server.get("Observation?date=lt0001-01-01&_sort=_id").body()).path("entry"))
        .hasSize(2);
  }

  @Test
  void a_line_whose_last_updated_is_before_the_year_1_or_in_the_future_is_refused_alone() {
    client.write("times.ndjson", List.of(
        patient("imp-t-year0", "1", "0000-01-01T00:00:00Z", "Year0"),
        patient("imp-t-future", "1", "2999-01-01T00:00:00.000Z", "Future"),
        patient("imp-t-good", "1", "2021-01-01T00:00:00.000Z", "Good")));

    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "times.ndjson", "Patient"));

    assertThat(ImportClient.imported(result)).isEqualTo(1);
    List<JsonNode> errors = client.errors(result);
    assertThat(errors).hasSize(2);
    assertThat(errors.get(0).get("issue").get(0).get("diagnostics").asText()).startsWith("times.ndjson, line 1: ")
        .contains("meta.lastUpdated");
    assertThat(errors.get(1).get("issue").get(0).get("diagnostics").asText()).startsWith("times.ndjson, line 2: ")
        .contains("future");
    assertThat(server.get("Patient/imp-t-good").statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/imp-t-future").statusCode()).isEqualTo(404);
  }

  @Test
  void a_url_outside_the_import_folder_is_refused_with_400() {
    for (String url : List.of("../escape.ndjson", "/etc/passwd.ndjson", "file:///etc/x.ndjson",
        "https://example.org/x.ndjson", "notes.txt")) {
      HttpResponse<String> r = client.kickOff(ImportClient.request("IncrementalLoad", url, "Patient"));
      assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).contains("OperationOutcome");
    }
    HttpResponse<String> inside = client.kickOff(ImportClient.request("IncrementalLoad",
        server.dataDir().resolve("imports/kept.ndjson").toUri().toString(), "Patient"));
    assertThat(inside.statusCode()).as(inside.body()).isEqualTo(202);
  }

  @Test
  void a_symbolic_link_out_of_the_import_folder_is_not_followed() throws IOException {
    Path outside = Files.createTempFile("sluice-outside", ".ndjson");
    Files.writeString(outside, patient("imp-outside", "Secret") + "\n");
    Files.createSymbolicLink(server.dataDir().resolve("imports/link.ndjson"), outside);

    JsonNode result = client.run(ImportClient.request("IncrementalLoad", "link.ndjson", "Patient"));

    assertThat(ImportClient.imported(result)).isZero();
    assertThat(client.errors(result).getFirst().get("issue").get(0).get("diagnostics").asText())
        .contains("leads outside the import folder");
    assertThat(server.get("Patient/imp-outside").statusCode()).isEqualTo(404);
    Files.delete(outside);
  }

  @Test
  void a_bad_request_is_a_400_and_kickoff_needs_the_async_headers() {
    assertThat(client.kickOff("{\"resourceType\":\"Patient\"}").statusCode()).isEqualTo(400);
    assertThat(client.kickOff(ImportClient.request("SomeLoad", "a.ndjson", "Patient")).statusCode()).isEqualTo(400);
    assertThat(client.kickOff(ImportClient.request("IncrementalLoad", "a.ndjson", "Banana")).statusCode()).isEqualTo(400);
    assertThat(server.post("$import", ImportClient.request("IncrementalLoad", "a.ndjson", "Patient"),
        "Accept", "application/fhir+json").statusCode()).isEqualTo(400);
    assertThat(server.get("_operations/import/" + java.util.UUID.randomUUID()).statusCode()).isEqualTo(404);
  }

  @Test
  void initial_load_into_a_type_with_resources_is_409() {
    HttpResponse<String> r = client.kickOff(ImportClient.request("InitialLoad", "kept.ndjson", "Patient"));
    server.put("Patient/imp-initial", patient("imp-initial", "Any"));
    HttpResponse<String> again = client.kickOff(ImportClient.request("InitialLoad", "kept.ndjson", "Patient"));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(409);
    assertThat(r.statusCode()).isIn(202, 409);
  }

  /**
   * A resource of an InitialLoad written by a client before the merge: the merge refuses the
   * whole import and nothing of it is ever visible. The input is a pipe that gives 1,000 lines
   * (one staged batch) and then waits until the client's write is done.
   */
  @Test
  void a_resource_written_while_an_initial_load_runs_makes_the_whole_import_fail_invisibly() throws Exception {
    Path input = server.dataDir().resolve("imports/basics.ndjson");
    assertThat(new ProcessBuilder("mkfifo", input.toString()).inheritIO().start().waitFor()).isZero();
    java.util.concurrent.CountDownLatch written = new java.util.concurrent.CountDownLatch(1);
    Thread writer = Thread.ofPlatform().start(() -> {
      try (OutputStream out = Files.newOutputStream(input)) {
        for (int i = 1; i <= 1200; i++) {
          if (i == 1001) {
            out.flush();
            written.await();
          }
          out.write(("{\"resourceType\":\"Basic\",\"id\":\"cf-" + i + "\",\"code\":{\"text\":\"line " + i
              + "\"}}\n").getBytes(StandardCharsets.UTF_8));
        }
      } catch (IOException | InterruptedException e) {
        // the server stopped reading: the test says why
      }
    });
    String status;
    long deadline = System.nanoTime() + 120_000_000_000L;
    try {
      status = client.start(ImportClient.request("InitialLoad", "basics.ndjson", "Basic"));
      while (!server.get(status).headers().firstValue("X-Progress").orElse("").contains("1000 resources imported")) {
        assertThat(System.nanoTime()).as("first batch staged in time").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThat(server.get("Basic?_summary=count").body()).contains("\"total\":0");
      assertThat(server.put("Basic/cf-1100",
          "{\"resourceType\":\"Basic\",\"id\":\"cf-1100\",\"code\":{\"text\":\"client\"}}").statusCode())
          .isEqualTo(201);
    } finally {
      written.countDown();
      ImportDurabilityTest.unblock(writer, input);
    }
    HttpResponse<String> end;
    while ((end = server.get(status)).statusCode() == 202) {
      assertThat(System.nanoTime()).as("import ended in time").isLessThan(deadline);
      Thread.sleep(100);
    }
    assertThat(end.statusCode()).as(end.body()).isEqualTo(500);
    assertThat(end.body()).contains("Basic/cf-1100").contains("IncrementalLoad");
    assertThat(server.get("Basic?_summary=count").body()).contains("\"total\":1");
    assertThat(server.get("Basic/cf-1").statusCode()).isEqualTo(404);
    assertThat(server.get("Basic/cf-1100").body()).contains("client");
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Azure Blob storage that goes away and comes back: a real Azurite stopped and started again
 * on the same port and data directory. An outage at kick-off or in the middle of the parts
 * ends with a complete, exact export once the store is back; an outage longer than the retries
 * fails the job with an OperationOutcome that says so in words.
 */
@ExtendWith(Azurite.class)
class ExportAzureOutageTest {
  private static TestServer server;
  private static ExportClient client;
  private static Map<String, List<String>> loaded;

  private static Function<java.nio.file.Path, dev.sluice.cli.Config> azure(int storeRetries) {
    return ExportFixture.config(e -> new ExportConfig("azure", Azurite.connectionString(), e.workers(),
        e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(), e.leaseSeconds(), e.retentionSeconds(), true,
        storeRetries));
  }

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), azure(10));
    client = new ExportClient(server);
    loaded = client.load(Fixtures.small(), List.of("Patient", "Encounter"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void storeIsBack() throws Exception {
    Azurite.start();
  }

  private static Set<String> ids(List<String> lines) {
    Set<String> ids = new HashSet<>();
    lines.forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  private static UUID job(String status) {
    return UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
  }

  private static long count(TestServer on, String sql, UUID job) throws Exception {
    try (Connection c = on.app().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, job);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  /** Waits (bounded) until the query counts at least one. */
  private static void awaitCount(TestServer on, String sql, UUID job) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (count(on, sql, job) < 1) {
      assertThat(System.nanoTime()).as("waiting for: " + sql).isLessThan(deadline);
      ExportClient.sleep(100);
    }
  }

  private static void assertExact(JsonNode manifest) {
    for (String type : List.of("Patient", "Encounter")) {
      List<String> lines = client.lines(manifest, "output", type);
      assertThat(lines).as(type + " lines").hasSize(loaded.get(type).size());
      assertThat(ids(lines)).as(type).isEqualTo(ids(loaded.get(type)));
    }
  }

  @Test
  void storage_down_at_kickoff_and_back_later_ends_with_a_complete_export() throws Exception {
    Azurite.stop();
    String status = client.start("$export?_type=Patient,Encounter&_container=outage-at-kickoff");
    // planning found the store unreachable at least once, and waits to try again
    awaitCount(server, "select plan_attempts from export_job where id = ?", job(status));
    Azurite.start();
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertExact(ExportClient.read(done.body()));
  }

  @Test
  void storage_down_while_parts_write_and_back_later_ends_with_a_complete_export() throws Exception {
    String status;
    try (Connection lock = server.app().dataSource().getConnection();
        Connection watch = server.app().dataSource().getConnection()) {
      // the container exists and the parts are in their scans when the store goes away
      status = ScanBlocker.startBlocked(client, server.app().dataSource(), lock,
          "$export?_type=Patient,Encounter&_container=outage-in-parts");
      ScanBlocker.awaitScans(watch, 1);
      Azurite.stop();
      lock.rollback();
    }
    awaitCount(server, "select max(outages) from export_part where job_id = ?", job(status));
    Azurite.start();
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertExact(ExportClient.read(done.body()));
    assertThat(client.get(server.root() + "/metrics").body())
        .contains("sluice_export_part_retries_total{reason=\"store-unreachable\"}");
  }

  @Test
  void storage_down_longer_than_the_retries_fails_the_job_saying_the_store_was_unreachable() throws Exception {
    try (TestServer impatient = TestServer.start(ExportFixture.tempDir(), azure(2))) {
      ExportClient other = new ExportClient(impatient);
      other.putAll(loaded.get("Patient").subList(0, 3));
      Azurite.stop();
      HttpResponse<String> r = other.await(other.start("$export?_type=Patient&_container=outage-too-long"));
      assertThat(r.statusCode()).isEqualTo(500);
      JsonNode issue = ExportClient.read(r.body()).get("issue").get(0);
      assertThat(issue.get("code").asText()).isEqualTo("no-store");
      assertThat(issue.get("details").get("coding").get(0).get("code").asText()).isEqualTo("SLUICE-1004");
      assertThat(issue.get("diagnostics").asText()).contains("The export store was unreachable")
          .contains("could not be reached");
      assertThat(r.body()).doesNotContain("Exception").doesNotContain("<?xml").doesNotContain("x-ms-");
    }
  }

  @Test
  void a_planning_that_fails_unexpectedly_fails_the_job_after_a_few_attempts() throws Exception {
    UUID id = UUID.randomUUID();
    try (Connection c = server.app().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
        "insert into export_job (id, client, request_key, request_url, request, status, transaction_time, wait_xids,"
            + " container) values (?, 'test', ?, 'test', '{\"not\": a request', 'queued', now(), '', 'broken-plan')")) {
      ps.setObject(1, id);
      ps.setString(2, id.toString());
      ps.executeUpdate();
    }
    HttpResponse<String> r = client.await(server.base() + "/_operations/export/" + id);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    JsonNode issue = ExportClient.read(r.body()).get("issue").get(0);
    assertThat(issue.get("details").get("coding").get(0).get("code").asText()).isEqualTo("SLUICE-1005");
    assertThat(issue.get("diagnostics").asText()).contains("Planning the export failed 3 times");
  }
}

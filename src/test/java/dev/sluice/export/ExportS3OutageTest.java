package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.ExportConfig;
import dev.sluice.cli.S3Config;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An S3 server that goes away and comes back: a real S3Mock stopped and started again on the
 * same port and directory. An outage at kick-off or while the parts write ends with a
 * complete, exact export once the store is back.
 */
@ExtendWith(S3Mock.class)
class ExportS3OutageTest {
  private static TestServer server;
  private static ExportClient client;
  private static Map<String, List<String>> loaded;

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> new ExportConfig(e.storage(), null,
        e.workers(), e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(), e.leaseSeconds(),
        e.retentionSeconds(), true, 10)
        .withS3(new S3Config(S3Mock.BUCKET, "", "us-east-1", S3Mock.endpoint(), null, S3Config.DEFAULT_PART_BYTES))));
    client = new ExportClient(server);
    loaded = client.load(Fixtures.small(), List.of("Patient", "Encounter"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @AfterEach
  void storeIsBack() throws Exception {
    S3Mock.start();
  }

  private static Set<String> ids(List<String> lines) {
    Set<String> ids = new HashSet<>();
    lines.forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  private static UUID job(String status) {
    return UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
  }

  /** Waits (bounded) until the query counts at least one. */
  private static void awaitCount(String sql, UUID job) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (Connection c = server.app().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setObject(1, job);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && rs.getLong(1) >= 1) {
            return;
          }
        }
      }
      assertThat(System.nanoTime()).as("waiting for: " + sql).isLessThan(deadline);
      ExportClient.sleep(100);
    }
  }

  private static void assertExact(JsonNode manifest) {
    assertThat(manifest.get("requiresAccessToken").asBoolean()).isFalse();
    for (String type : List.of("Patient", "Encounter")) {
      List<String> lines = client.lines(manifest, "output", type);
      assertThat(lines).as(type + " lines").hasSize(loaded.get(type).size());
      assertThat(ids(lines)).as(type).isEqualTo(ids(loaded.get(type)));
    }
  }

  @Test
  void s3_down_at_kickoff_and_back_later_ends_with_a_complete_export() throws Exception {
    S3Mock.stop();
    String status = client.start("$export?_type=Patient,Encounter&_container=s3-outage-at-kickoff");
    awaitCount("select plan_attempts from export_job where id = ?", job(status));
    S3Mock.start();
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertExact(ExportClient.read(done.body()));
  }

  @Test
  void s3_down_while_parts_write_and_back_later_ends_with_a_complete_export() throws Exception {
    String status;
    try (Connection lock = server.app().dataSource().getConnection();
        Connection watch = server.app().dataSource().getConnection()) {
      // the bucket was found and the parts are in their scans when the store goes away
      status = ScanBlocker.startBlocked(client, server.app().dataSource(), lock,
          "$export?_type=Patient,Encounter&_container=s3-outage-in-parts");
      ScanBlocker.awaitScans(watch, 1);
      S3Mock.stop();
      lock.rollback();
    }
    awaitCount("select max(outages) from export_part where job_id = ?", job(status));
    S3Mock.start();
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertExact(ExportClient.read(done.body()));
  }
}

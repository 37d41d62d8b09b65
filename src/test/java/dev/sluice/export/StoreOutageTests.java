package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.Config;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
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
import org.junit.jupiter.api.TestInstance;

/**
 * The outages every output store must survive, against a real emulator that a subclass stops
 * and starts again on the same port and directory: an outage at kick-off or while the parts
 * write ends with a complete, exact export once the store is back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class StoreOutageTests {
  protected TestServer server;
  protected ExportClient client;
  protected Map<String, List<String>> loaded;

  /** The server's configuration with this store, and the given number of store retries. */
  protected abstract Function<Path, Config> config(int storeRetries);

  protected abstract void stopStore() throws Exception;

  protected abstract void startStore() throws Exception;

  /** What this store's manifest says beyond its files. */
  protected void checkManifest(JsonNode manifest) {
  }

  @BeforeAll
  void startServer() {
    server = TestServer.start(ExportFixture.tempDir(), config(10));
    client = new ExportClient(server);
    loaded = client.load(Fixtures.small(), List.of("Patient", "Encounter"));
  }

  @AfterAll
  void stopServer() {
    server.close();
  }

  @AfterEach
  void storeIsBack() throws Exception {
    startStore();
  }

  @Test
  void store_down_at_kickoff_and_back_later_ends_with_a_complete_export() throws Exception {
    stopStore();
    String status = client.start("$export?_type=Patient,Encounter&_container=outage-at-kickoff");
    // planning found the store unreachable at least once, and waits to try again
    awaitCount(server, "select plan_attempts from export_job where id = ?", job(status));
    startStore();
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertExact(ExportClient.read(done.body()));
  }

  @Test
  void store_down_while_parts_write_and_back_later_ends_with_a_complete_export() throws Exception {
    String status;
    try (Connection lock = server.app().dataSource().getConnection();
        Connection watch = server.app().dataSource().getConnection()) {
      // the container exists and the parts are in their scans when the store goes away
      status = ScanBlocker.startBlocked(client, server.app().dataSource(), lock,
          "$export?_type=Patient,Encounter&_container=outage-in-parts");
      ScanBlocker.awaitScans(watch, 1);
      stopStore();
      lock.rollback();
    }
    awaitCount(server, "select max(outages) from export_part where job_id = ?", job(status));
    startStore();
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    assertExact(ExportClient.read(done.body()));
    assertThat(client.get(server.root() + "/metrics").body())
        .contains("sluice_export_part_retries_total{reason=\"store-unreachable\"}");
  }

  protected void assertExact(JsonNode manifest) {
    checkManifest(manifest);
    for (String type : List.of("Patient", "Encounter")) {
      List<String> lines = client.lines(manifest, "output", type);
      assertThat(lines).as(type + " lines").hasSize(loaded.get(type).size());
      assertThat(ids(lines)).as(type).isEqualTo(ids(loaded.get(type)));
    }
  }

  private static Set<String> ids(List<String> lines) {
    Set<String> ids = new HashSet<>();
    lines.forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  static UUID job(String status) {
    return UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
  }

  /** Waits (bounded) until the query, given the job's id, counts at least one. */
  static void awaitCount(TestServer on, String sql, UUID job) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (count(on, sql, job) < 1) {
      assertThat(System.nanoTime()).as("waiting for: " + sql).isLessThan(deadline);
      ExportClient.sleep(100);
    }
  }

  private static long count(TestServer on, String sql, UUID job) throws Exception {
    try (Connection c = on.app().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, job);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }
}

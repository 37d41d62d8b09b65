package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batch that waits for a row another transaction holds keeps its part: it is not
 * taken over by another worker (which would wait for the same row, and count an attempt each
 * lease until the job fails), and it goes on once the row is free.
 */
class ImportLeaseTest {
  private static final int LEASE_SECONDS = 2;

  @Test
  void a_batch_waiting_for_a_held_row_keeps_its_part_and_goes_on_when_the_row_is_free() throws Exception {
    ExportConfig d = ExportConfig.defaults();
    ExportConfig e = new ExportConfig(d.storage(), d.azureConnectionString(), 2, d.maxRunningJobs(), d.maxFileBytes(),
        d.maxFileResources(), d.partResources(), LEASE_SECONDS, d.retentionSeconds(), true, d.storeRetries());
    try (TestServer server = TestServer.start(Files.createTempDirectory("sluice-import-lease"), dir -> {
      Config base = TestServer.config(dir);
      return new Config(base.host(), base.port(), base.dataDir(), base.dbUrl(), base.dbUser(), base.dbPassword(),
          base.dbPoolSize(), base.publicBaseUrl(), base.maxBodyBytes(), e).validate();
    })) {
      ImportClient client = new ImportClient(server);
      List<String> lines = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        lines.add("{\"resourceType\":\"Patient\",\"id\":\"lease-" + i + "\"}");
      }
      client.write("lease.ndjson", lines);
      String status;
      try (Connection hold = server.app().dataSource().getConnection();
          Connection watch = server.app().dataSource().getConnection()) {
        hold.setAutoCommit(false);
        hold.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
            + " values ('Patient', 'lease-7', 1, now(), false)");
        status = client.start(ImportClient.request("IncrementalLoad", "lease.ndjson", "Patient"));
        ImportTest.awaitInsertsWaiting(watch, 1);
        // the batch holds its part's row while it waits: past three lease lengths, no claim (of this
        // server's other worker, or of another process) takes the part
        Timestamp lease = lease(watch);
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (now(watch).getTime() < lease.getTime() + 3 * LEASE_SECONDS * 1000L) {
          assertThat(attempt(watch)).as("claimed once").isEqualTo(1);
          assertThat(System.nanoTime()).as("three leases passed in time").isLessThan(deadline);
          Thread.sleep(100);
        }
        assertThat(new dev.sluice.store.ImportJobTable(server.app().dataSource()).claim("intruder",
            java.time.Duration.ofMinutes(1))).isEmpty();
        assertThat(attempt(watch)).as("claimed once").isEqualTo(1);
        hold.rollback();
      }
      JsonNode result = client.await(status);
      assertThat(result.get("error")).as(result.toString()).isEmpty();
      assertThat(ImportClient.imported(result)).isEqualTo(20);
      try (Connection c = server.app().dataSource().getConnection()) {
        assertThat(attempt(c)).isEqualTo(1);
      }
      assertThat(server.get("Patient/lease-7").statusCode()).isEqualTo(200);
    }
  }

  private static Timestamp now(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery("select now()")) {
      rs.next();
      return rs.getTimestamp(1);
    }
  }

  private static Timestamp lease(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery("select lease_until from import_part")) {
      rs.next();
      return rs.getTimestamp(1);
    }
  }

  private static int attempt(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery("select attempt from import_part")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}

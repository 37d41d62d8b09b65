package dev.sluice.export;

import dev.sluice.testing.ChildServer;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.cli.Application;
import dev.sluice.cli.Config;
import dev.sluice.testing.Fixtures;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ExportDurabilityTest {
  private static final List<String> TYPES = List.of("Patient", "Encounter", "Observation");

  private static void assertExact(ExportClient client, JsonNode manifest, Map<String, List<String>> loaded, String type) {
    List<String> lines = client.lines(manifest, "output", type);
    Set<String> ids = new HashSet<>();
    for (String l : lines) {
      assertThat(ids.add(ExportClient.id(l))).as("twice: " + l.substring(0, 60)).isTrue();
    }
    Set<String> expected = new HashSet<>();
    loaded.get(type).forEach(l -> expected.add(ExportClient.id(l)));
    assertThat(ids).as(type).isEqualTo(expected);
    assertThat(ExportClient.counts(manifest).get(type)).isEqualTo(loaded.get(type).size());
  }

  @Test
  void kill_9_in_the_middle_of_an_export_then_restart_finishes_with_exactly_the_right_counts() throws Exception {
    Path dir = ExportFixture.tempDir();
    int port = ChildServer.freePort();
    String[] flags = {"--export-lease", "3", "--export-part-size", "300", "--export-max-file-resources", "500"};
    String status;
    Map<String, List<String>> loaded;
    try (ChildServer first = ChildServer.start(dir, port, flags)) {
      ExportClient client = new ExportClient(first.base());
      loaded = client.load(Fixtures.small(), TYPES);
      try (Connection lock = first.dataSource().getConnection();
          Connection watch = first.dataSource().getConnection()) {
        status = ScanBlocker.startBlocked(client, first.dataSource(), lock, "$export?_type=" + String.join(",", TYPES));
        ScanBlocker.awaitScans(watch, 2);
        first.kill();
        lock.rollback();
      }
    }
    try (ChildServer second = ChildServer.start(dir, port, flags)) {
      ExportClient client = new ExportClient(second.base());
      var done = client.await(status);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      JsonNode m = ExportClient.read(done.body());
      for (String type : TYPES) {
        assertExact(client, m, loaded, type);
      }
      try (Connection c = second.dataSource().getConnection();
          ResultSet rs = c.createStatement().executeQuery("select max(attempt) from export_part")) {
        rs.next();
        assertThat(rs.getInt(1)).as("a part was taken over from the dead process").isGreaterThan(1);
      }
    }
  }

  @Test
  void two_server_processes_on_one_database_share_the_parts_of_one_job() throws Exception {
    ExportClient client = ExportFixture.client();
    Application one = ExportFixture.app();
    HikariDataSource pool = (HikariDataSource) one.dataSource();
    Config base = ExportFixture.config(e -> e).apply(client.server().dataDir());
    Config shared = new Config(base.host(), 0, base.dataDir(), pool.getJdbcUrl(), pool.getUsername(), pool.getPassword(), 4, null, base.maxBodyBytes(),
        base.export()).validate();
    try (Application two = Application.start(shared);
        Connection lock = one.dataSource().getConnection();
        Connection watch = one.dataSource().getConnection()) {
      String status = ScanBlocker.startBlocked(client, one.dataSource(), lock, "$export?_type=Observation,Encounter,Claim,ExplanationOfBenefit");
      ScanBlocker.awaitScans(watch, 4);
      UUID job = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
      try (PreparedStatement ps = watch.prepareStatement(
          "select count(distinct owner) from export_part where job_id = ? and status = 'running'")) {
        ps.setObject(1, job);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getInt(1)).isEqualTo(2);
        }
      }
      lock.rollback();
      JsonNode m = ExportClient.read(client.await(status).body());
      for (String type : List.of("Observation", "Encounter", "Claim", "ExplanationOfBenefit")) {
        assertExact(client, m, ExportFixture.loaded(), type);
      }
    }
  }

  @Test
  void past_the_running_limit_new_jobs_queue_until_one_ends() throws Exception {
    ExportClient client = ExportFixture.client();
    int limit = dev.sluice.cli.ExportConfig.defaults().maxRunningJobs();
    List<String> types = List.of("Goal", "CarePlan", "Condition", "Immunization", "Procedure", "ImagingStudy");
    List<String> statuses = new ArrayList<>();
    try (Connection lock = ExportFixture.app().dataSource().getConnection();
        Connection planning = ExportFixture.app().dataSource().getConnection();
        Connection watch = ExportFixture.app().dataSource().getConnection()) {
      planning.setAutoCommit(false);
      planning.createStatement().execute("select pg_current_xact_id()");
      for (String type : types.subList(0, limit + 1)) {
        statuses.add(client.start("$export?_type=" + type));
      }
      lock.setAutoCommit(false);
      lock.createStatement().execute("lock table resource_version in access exclusive mode");
      planning.rollback();
      ScanBlocker.awaitScans(watch, 2);
      long deadline = System.nanoTime() + 10_000_000_000L;
      Map<String, Long> byStatus;
      do {
        ExportClient.sleep(100);
        byStatus = new java.util.HashMap<>();
        for (String s : statuses) {
          try (PreparedStatement ps = watch.prepareStatement("select status from export_job where id = ?")) {
            ps.setObject(1, UUID.fromString(s.substring(s.lastIndexOf('/') + 1)));
            try (ResultSet rs = ps.executeQuery()) {
              rs.next();
              byStatus.merge(rs.getString(1), 1L, Long::sum);
            }
          }
        }
      } while (byStatus.getOrDefault("running", 0L) < limit && System.nanoTime() < deadline);
      assertThat(byStatus).containsEntry("running", (long) limit).containsEntry("queued", 1L);
      lock.rollback();
    }
    for (String s : statuses) {
      assertThat(client.await(s).statusCode()).isEqualTo(200);
    }
  }

  /**
   * The planning claim commits without waiting for its WAL flush (ExportJobTable.PROMOTION_LOCK),
   * so a crash of PostgreSQL may lose it: the job is then queued and unowned again while its planner
   * goes on. That planner must be refused (renewal and start name the owner) and the job planned
   * again, once, with exact files. The test holds the promotion lock while the planner goes on, so
   * the refused planner waits at its next claim, where the job must still be queued and unplanned
   * (a planner not fenced out would have planned it: the one guarantee that differs here).
   */
  @Test
  void a_planning_claim_lost_by_postgresql_leaves_the_job_planned_again_once_with_exact_files() throws Exception {
    ExportClient client = ExportFixture.client();
    List<String> types = List.of("Goal", "CarePlan");
    String status;
    UUID job;
    try (Connection planning = ExportFixture.app().dataSource().getConnection();
        Connection watch = ExportFixture.app().dataSource().getConnection();
        Connection promotion = ExportFixture.app().dataSource().getConnection()) {
      // a transaction in progress at kick-off holds the planner in its wait for it, claimed
      planning.setAutoCommit(false);
      planning.createStatement().execute("select pg_current_xact_id()");
      status = client.start("$export?_type=" + String.join(",", types));
      job = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
      long deadline = System.nanoTime() + 10_000_000_000L;
      String owner = null;
      while (owner == null && System.nanoTime() < deadline) {
        ExportClient.sleep(20);
        try (PreparedStatement ps = watch.prepareStatement("select owner from export_job where id = ?")) {
          ps.setObject(1, job);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            owner = rs.getString(1);
          }
        }
      }
      assertThat(owner).as("claimed for planning").isNotNull();
      // no planner claims anything until this transaction ends: the refused one waits here
      promotion.setAutoCommit(false);
      promotion.createStatement().execute("select pg_advisory_xact_lock(4242001)");
      // the claim as if its commit had never reached the disk
      try (PreparedStatement ps = watch.prepareStatement(
          "update export_job set owner = null, lease_until = null where id = ? and status = 'queued'")) {
        ps.setObject(1, job);
        assertThat(ps.executeUpdate()).isEqualTo(1);
      }
      planning.rollback();
      deadline = System.nanoTime() + 10_000_000_000L;
      boolean waiting = false;
      while (!waiting && System.nanoTime() < deadline) {
        ExportClient.sleep(20);
        try (ResultSet rs = watch.createStatement().executeQuery("select count(*) from pg_locks"
            + " where locktype = 'advisory' and classid = 0 and objid = 4242001 and not granted")) {
          rs.next();
          waiting = rs.getLong(1) > 0;
        }
      }
      assertThat(waiting).as("the planner went on to its next claim").isTrue();
      try (PreparedStatement ps = watch.prepareStatement("select status, owner,"
          + " (select count(*) from export_part p where p.job_id = j.id) from export_job j where id = ?")) {
        ps.setObject(1, job);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          assertThat(rs.getString(1)).as("the planner whose claim was lost was refused").isEqualTo("queued");
          assertThat(rs.getString(2)).isNull();
          assertThat(rs.getLong(3)).as("no parts planned by it").isZero();
        }
      }
      promotion.commit();
    }
    var done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode m = ExportClient.read(done.body());
    for (String type : types) {
      assertExact(client, m, ExportFixture.loaded(), type);
    }
  }
}

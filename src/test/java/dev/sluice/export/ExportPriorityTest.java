package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.Config;
import dev.sluice.testing.TestServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * Export scans run on their own bounded pool ({@code sluice-export}), and with the embedded
 * PostgreSQL their backends run at {@code --export-niceness}, as do the export's threads in the
 * JVM, so that an export yields the CPU to the API's queries; a backend is a session of its own, so its
 * autogroup (which alone orders it against other sessions' processes) gets the same niceness. Each part is held in its COPY (a lock on resource_version) while the
 * test reads the backend's niceness from {@code /proc/<pid>/stat}.
 */
class ExportPriorityTest {
  private static final int NICENESS = 7;

  @Test
  void export_scans_run_on_the_export_pool_at_the_export_niceness_and_the_api_does_not() throws Exception {
    try (TestServer server = TestServer.start(ExportFixture.tempDir(),
        ExportFixture.config(e -> e.withNiceness(NICENESS)))) {
      whileAPatientScanIsHeld(server, 3, watch -> {
        assertThat(scans(watch)).isNotEmpty().allSatisfy(b -> {
          assertThat(b.application()).isEqualTo("sluice-export");
          assertThat(b.niceness()).as("nice of backend %d", b.pid()).isEqualTo(NICENESS);
          assertThat(autogroupNice(b.pid())).as("nice of backend %d's autogroup, a session of its own", b.pid())
              .hasValue(NICENESS);
        });
        assertThat(niceness(ownPid(watch))).as("a backend of the API's pool").isZero();
        assertThat(autogroupNice(ownPid(watch))).as("the autogroup of a backend of the API's pool").isNotEqualTo(
            Optional.of(NICENESS));
        assertThat(autogroupNice(ProcessHandle.current().pid())).as("this JVM's autogroup").isNotEqualTo(
            Optional.of(NICENESS));
        // this server's 2 worker loops and its coordinator; other servers of this JVM run at other niceness
        assertThat(threadNiceness("export-worker")).as("export threads of this JVM, by niceness")
            .containsEntry(NICENESS, 3L);
      });
    }
  }

  @Test
  void an_external_database_keeps_its_backends_niceness_and_exports() throws Exception {
    Path pgData = Files.createTempDirectory("sluice-external-pg");
    try (EmbeddedPostgres external = EmbeddedPostgres.builder().setDataDirectory(pgData).setCleanDataDirectory(true)
        .start();
        TestServer server = TestServer.start(ExportFixture.tempDir(), dir -> {
          Config base = ExportFixture.config(e -> e.withNiceness(NICENESS)).apply(dir);
          return new Config(base.host(), base.port(), base.dataDir(), external.getJdbcUrl("postgres", "postgres"),
              "postgres", "postgres", base.dbPoolSize(), base.publicBaseUrl(), base.maxBodyBytes(), base.export())
              .validate();
        })) {
      whileAPatientScanIsHeld(server, 2, watch ->
          assertThat(scans(watch)).isNotEmpty().allSatisfy(b -> {
            assertThat(b.application()).isEqualTo("sluice-export");
            assertThat(b.niceness()).as("an external PostgreSQL's backend is left alone").isZero();
          }));
    }
  }

  private interface HeldCheck {
    void check(Connection watch) throws Exception;
  }

  /**
   * Puts {@code patients} Patients, holds a Patient export in its COPY while {@code check} looks
   * (on a connection of the API's pool), then lets it finish and checks its count.
   */
  private static void whileAPatientScanIsHeld(TestServer server, int patients, HeldCheck check) throws Exception {
    ExportClient client = new ExportClient(server);
    List<String> ids = putPatients(client, patients);
    DataSource api = server.app().dataSource();
    try (Connection lock = api.getConnection(); Connection watch = api.getConnection()) {
      String status = ScanBlocker.startBlocked(client, api, lock, "$export?_type=Patient");
      ScanBlocker.awaitScans(watch, 1);
      check.check(watch);
      lock.rollback();
      JsonNode manifest = ExportClient.read(client.await(status).body());
      assertThat(ExportClient.counts(manifest)).isEqualTo(Map.of("Patient", (long) ids.size()));
    }
  }

  private record Backend(int pid, String application, int niceness) {}

  private static List<String> putPatients(ExportClient client, int n) {
    List<String> ids = new ArrayList<>();
    List<String> resources = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = "prio-" + i;
      ids.add(id);
      resources.add("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"other\"}");
    }
    client.putAll(resources);
    return ids;
  }

  /** The backends running an export's COPY, with their application name and niceness. */
  private static List<Backend> scans(Connection watch) throws Exception {
    List<Backend> found = new ArrayList<>();
    try (ResultSet rs = watch.createStatement().executeQuery(
        "select pid, application_name from pg_stat_activity where query like 'copy (select v.content%'"
            + " and state = 'active'")) {
      while (rs.next()) {
        found.add(new Backend(rs.getInt(1), rs.getString(2), niceness(rs.getInt(1))));
      }
    }
    return found;
  }

  private static int ownPid(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery("select pg_backend_pid()")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** How many threads of this JVM whose (Linux) name starts with {@code prefix} run at each niceness. */
  private static Map<Integer, Long> threadNiceness(String prefix) throws Exception {
    Map<Integer, Long> found = new java.util.TreeMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        if (Files.readString(task.resolve("comm")).startsWith(prefix)) {
          found.merge(niceness(task.resolve("stat")), 1L, Long::sum);
        }
      }
    }
    return found;
  }

  /**
   * The nice of process {@code pid}'s autogroup ("/autogroup-42 nice 7"), empty on a kernel
   * without autogroups (no such file), where there is nothing to lower, and for a process in the
   * default autogroup (an empty file: the root task group, as for a JVM started from a container's
   * pid 1 without setsid), which has no nice of its own.
   */
  private static Optional<Integer> autogroupNice(long pid) throws Exception {
    Path file = Path.of("/proc", Long.toString(pid), "autogroup");
    String line = Files.exists(file) ? Files.readString(file).trim() : "";
    if (line.isEmpty()) {
      return Optional.empty();
    }
    String[] fields = line.split("\\s+");
    return Optional.of(Integer.parseInt(fields[fields.length - 1]));
  }

  /** Field 19 of /proc/<pid>/stat, counted after the command name (which may hold spaces). */
  private static int niceness(int pid) throws Exception {
    return niceness(Path.of("/proc", Integer.toString(pid), "stat"));
  }

  private static int niceness(Path statFile) throws Exception {
    String stat = Files.readString(statFile);
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Integer.parseInt(fields[16]);
  }
}

package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.store.DataDirRefused;
import dev.sluice.testing.TestServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A server that cannot start as asked says so in one line and exits 2, before it touches
 * anything: a data directory another server uses, a port another program listens on.
 */
class StartRefusalTest {

  @Test
  void a_second_server_in_this_jvm_on_the_same_data_dir_is_refused_and_the_first_keeps_serving() {
    try (TestServer first = TestServer.startFresh()) {
      assertThatThrownBy(() -> Application.start(TestServer.config(first.dataDir())))
          .isInstanceOf(DataDirRefused.class)
          .hasMessage("another Sluice, pid " + ProcessHandle.current().pid() + ", port 0 (this process), uses "
              + first.dataDir());
      assertServes(first);
    }
  }

  @Test
  void a_second_server_in_another_jvm_on_the_same_data_dir_exits_2_with_one_line_and_the_first_keeps_serving()
      throws Exception {
    try (TestServer first = TestServer.startFresh()) {
      Run second = serve("--port", "0", "--data-dir", first.dataDir().toString());
      assertThat(second.exitCode).as(second.output).isEqualTo(2);
      assertThat(second.errLines()).containsExactly(
          "sluice serve: another Sluice, pid " + ProcessHandle.current().pid() + ", port 0, uses " + first.dataDir());
      assertThat(second.output).doesNotContain("Embedded PostgreSQL started", "Stopping PostgreSQL", "Exception");
      assertServes(first);
    }
  }

  @Test
  void a_port_in_use_exits_2_with_one_line_before_postgres_starts() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-port");
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      Run run = serve("--host", "127.0.0.1", "--port", Integer.toString(port), "--data-dir", dataDir.toString());
      assertThat(run.exitCode).as(run.output).isEqualTo(2);
      assertThat(run.errLines()).hasSize(1);
      assertThat(run.errLines().getFirst()).startsWith("sluice serve: cannot listen on 127.0.0.1:" + port + " (")
          .endsWith("Choose another with --port");
      assertThat(run.output).doesNotContain("Embedded PostgreSQL", "Exception");
      assertThat(dataDir.resolve("postgres")).doesNotExist();
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  /** Reads and writes still work, over HTTP and on new database connections. */
  private static void assertServes(TestServer server) {
    String id = UUID.randomUUID().toString();
    assertThat(server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}").statusCode())
        .isEqualTo(201);
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(200);
    try (Connection c = fresh(server); ResultSet rs = c.createStatement().executeQuery("select 1")) {
      assertThat(rs.next()).isTrue();
    } catch (java.sql.SQLException e) {
      throw new AssertionError("the first server's PostgreSQL refuses new connections", e);
    }
  }

  private static Connection fresh(TestServer server) throws java.sql.SQLException {
    var pool = (com.zaxxer.hikari.HikariDataSource) server.app().dataSource();
    return java.sql.DriverManager.getConnection(pool.getJdbcUrl(), pool.getUsername(), pool.getPassword());
  }

  private record Run(int exitCode, String output, String errors) {
    /** The lines the command prints itself (the log goes to stderr too). */
    List<String> errLines() {
      return errors.lines().filter(l -> l.startsWith("sluice serve:")).toList();
    }
  }

  /** {@code sluice serve} in its own JVM, through the real entry point, to its exit. */
  private static Run serve(String... args) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "dev.sluice.cli.Main", "serve"));
    cmd.addAll(List.of(args));
    Path out = Files.createTempFile("sluice-serve", ".out");
    Path err = Files.createTempFile("sluice-serve", ".err");
    try {
      Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("sluice serve kept running: " + Files.readString(out));
      }
      return new Run(p.exitValue(), Files.readString(out) + Files.readString(err), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }
}

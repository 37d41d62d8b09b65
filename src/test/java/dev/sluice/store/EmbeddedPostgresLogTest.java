package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The embedded PostgreSQL's own messages (its errors, warnings, checkpoints) reach an operator:
 * they go to files under {@code <data-dir>/postgres/log}, not to a pipe nobody reads.
 */
class EmbeddedPostgresLogTest {

  @Test
  void an_error_in_postgresql_is_written_to_its_log_under_the_data_dir() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-pglog");
    try (TestServer server = TestServer.start(dataDir);
        Connection c = server.app().dataSource().getConnection(); Statement s = c.createStatement()) {
      assertThatThrownBy(() -> s.execute("select 1 / 0 as sluice_log_check")).isInstanceOf(SQLException.class);

      Path logs = dataDir.resolve("postgres/log");
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (!logged(logs, "division by zero") && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(logged(logs, "division by zero")).as("PostgreSQL's log under %s", logs).isTrue();
      assertThat(logged(logs, "sluice_log_check")).as("with the failed statement").isTrue();
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  private static boolean logged(Path dir, String text) throws Exception {
    if (!Files.isDirectory(dir)) {
      return false;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        if (Files.readString(f).contains(text)) {
          return true;
        }
      }
    }
    return false;
  }
}

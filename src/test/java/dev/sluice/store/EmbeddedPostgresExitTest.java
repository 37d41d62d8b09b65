package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A JVM that started the embedded PostgreSQL and exits without closing it (a crash of the
 * owner's code, a test that forgot) still stops it: the postmaster never outlives the JVM.
 */
class EmbeddedPostgresExitTest {
  /** Run in a child JVM: starts PostgreSQL in {@code args[0]}, prints its pid and returns, never closing it. */
  public static void main(String[] args) throws Exception {
    EmbeddedPostgresServer.start(Path.of(args[0]), 0);
    System.out.println("postmaster " + Files.readAllLines(Path.of(args[0], "postgres/postmaster.pid")).getFirst());
  }

  /** Alive and not a zombie: a stopped postmaster's parent (pg_ctl daemonized it) may reap it later. */
  private static boolean running(long pid) throws Exception {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (!Files.exists(stat)) {
      return false;
    }
    String content = Files.readString(stat);
    return content.charAt(content.lastIndexOf(')') + 2) != 'Z';
  }

  @Test
  void postgres_left_open_stops_when_the_jvm_exits() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-exit");
    try {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          EmbeddedPostgresExitTest.class.getName(), dataDir.toString()).redirectErrorStream(true).start();
      String output = new String(child.getInputStream().readAllBytes());
      assertThat(child.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(output).contains("postmaster ");
      long pid = Long.parseLong(output.lines().filter(l -> l.startsWith("postmaster ")).findFirst().orElseThrow()
          .substring("postmaster ".length()).trim());

      assertThat(running(pid)).as("the postmaster after the JVM's exit").isFalse();
      assertThat(dataDir.resolve("postgres/postmaster.pid")).doesNotExist();
      try (var logs = Files.list(dataDir.resolve("postgres/log"))) {
        assertThat(logs.toList()).singleElement().satisfies(log ->
            assertThat(Files.readString(log)).contains("database system is shut down"));
      }
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }
}

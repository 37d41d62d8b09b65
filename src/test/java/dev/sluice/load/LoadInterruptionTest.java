package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.Main;
import dev.sluice.testing.ChildServer;
import dev.sluice.testing.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A load that does not end normally: the server dies under it, or the user presses Ctrl-C.
 * The load is held at a known point by a row lock on one resource that the file updates:
 * the batches before it are stored, its batch waits in the database.
 */
class LoadInterruptionTest {
  private static final String HELD = "Device/load-held";
  private Path dir;

  @AfterEach
  void cleanUp() {
    if (dir != null) {
      TestServer.deleteTree(dir);
    }
  }

  /** 10 Devices, then the held one, then 10 more: with batches of 5 and one request at a time. */
  private Path file() throws Exception {
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < 21; i++) {
      String id = i == 10 ? "load-held" : "load-" + i;
      // the held one differs from what hold() stored: an unchanged update would not wait for the row
      lines.add("{\"resourceType\":\"Device\",\"id\":\"" + id + "\",\"status\":\"active\"}");
    }
    Path file = dir.resolve("devices.ndjson");
    Files.write(file, lines);
    return file;
  }

  /** Creates the held resource and locks its row in a transaction left open. */
  private static Connection hold(String base, Connection c) throws Exception {
    HttpResponse<String> put = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(base + "/" + HELD))
        .header("Content-Type", "application/fhir+json")
        .PUT(HttpRequest.BodyPublishers.ofString("{\"resourceType\":\"Device\",\"id\":\"load-held\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(201);
    c.setAutoCommit(false);
    try (Statement s = c.createStatement()) {
      s.execute("select 1 from resource where res_type = 'Device' and res_id = 'load-held' for update");
    }
    return c;
  }

  /** Waits until a session waits for the lock: the batch with the held resource has reached the database. */
  private static void awaitBlocked(Connection c) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try (Statement s = c.createStatement();
          ResultSet r = s.executeQuery("select count(*) from pg_stat_activity where wait_event_type = 'Lock'")) {
        r.next();
        if (r.getInt(1) > 0) {
          return;
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no request waited for the held row within 120 s");
  }

  @Test
  void a_server_that_died_stops_the_load_after_the_limit_with_one_line_counting_what_was_not_loaded()
      throws Exception {
    dir = Files.createTempDirectory("sluice-load-dies");
    Path file = file();
    ChildServer server = ChildServer.start(dir.resolve("data"), ChildServer.freePort());
    try (Connection c = hold(server.base(), server.dataSource().getConnection())) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AtomicInteger code = new AtomicInteger(-1);
      Thread load = Thread.ofPlatform().start(() -> code.set(new CommandLine(new Main())
          .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
          .setErr(new PrintWriter(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
          .execute("load", file.toString(), "--server", server.base(), "--batch-size", "5", "--concurrency", "1",
              "--unreachable-limit", "3")));
      awaitBlocked(c);
      server.kill();
      load.join(TimeUnit.SECONDS.toMillis(60));
      assertThat(load.isAlive()).as("the load gave up").isFalse();

      String summary = out.toString(StandardCharsets.UTF_8);
      assertThat(code.get()).as(summary).isEqualTo(1);
      assertThat(summary).contains("Loaded 10 of 21 resources")
          .contains("Stopped: the server at " + server.base() + " did not answer for 3 s; 11 resources were not loaded");
      assertThat(summary.lines().filter(l -> l.contains("devices.ndjson:"))).as("no line per resource").isEmpty();
    } finally {
      server.close();
      stopPostmaster(dir.resolve("data"));
    }
  }

  @Test
  void ctrl_c_prints_the_summary_so_far() throws Exception {
    dir = Files.createTempDirectory("sluice-load-ctrl-c");
    Path file = file();
    try (TestServer server = TestServer.startFresh();
        Connection c = hold(server.base(), server.app().dataSource().getConnection())) {
      Path output = dir.resolve("load.out");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      // SIGINT at its default in the child (env execs java, same pid), even when this JVM was
      // started with it ignored, as a suite started in the background by a script is
      Process load = new ProcessBuilder("env", "--default-signal=INT", java, "-cp", System.getProperty("java.class.path"),
          "dev.sluice.cli.Main",
          "load", file.toString(), "--server", server.base(), "--batch-size", "5", "--concurrency", "1")
          .redirectErrorStream(true).redirectOutput(output.toFile()).start();
      try {
        awaitBlocked(c);
        Process interrupt = new ProcessBuilder("kill", "-INT", Long.toString(load.pid())).inheritIO().start();
        assertThat(interrupt.waitFor()).isZero();
        assertThat(load.waitFor(60, TimeUnit.SECONDS)).isTrue();
      } finally {
        load.destroyForcibly();
        c.rollback();
      }
      String printed = Files.readString(output);
      assertThat(printed).contains("Interrupted: the summary so far").contains("Loaded 10 of 10 resources")
          .containsPattern("Device\\s+10");
    }
  }

  /** The killed server's PostgreSQL outlives it. */
  private static void stopPostmaster(Path dataDir) throws Exception {
    Path pidFile = dataDir.resolve("postgres/postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    Optional<ProcessHandle> pm = ProcessHandle.of(Long.parseLong(Files.readAllLines(pidFile).getFirst().trim()))
        .filter(ProcessHandle::isAlive);
    if (pm.isPresent()) {
      pm.get().destroy();
      pm.get().onExit().get(60, TimeUnit.SECONDS);
    }
  }
}

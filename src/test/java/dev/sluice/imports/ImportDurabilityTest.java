package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.ChildServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * {@code kill -9} in the middle of an import, then a restart: every line imported exactly once,
 * in both modes, and for InitialLoad both while it stages its input and during its merge. Each
 * test holds the import where it wants it (an uncommitted row a write waits for, or an input
 * that gives no more lines) before it kills the server.
 */
class ImportDurabilityTest {
  private static final int LINES = 2500;
  /** In the second batch (lines 1001-2000): an uncommitted row with its key makes the batch wait. */
  private static final int HELD = 1500;

  private final HttpClient http = HttpClient.newHttpClient();

  private static String patient(int i) {
    return "{\"resourceType\":\"Patient\",\"id\":\"dur-" + i + "\",\"name\":[{\"family\":\"Line" + i + "\"}]}";
  }

  private HttpResponse<String> send(String method, String url, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Accept", "application/fhir+json")
        .header("Prefer", "respond-async").header("Content-Type", "application/fhir+json");
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void kill_9_in_the_middle_of_an_incremental_load_then_restart_imports_every_line_exactly_once() throws Exception {
    Path dir = Files.createTempDirectory("sluice-import-kill");
    int port = ChildServer.freePort();
    Files.createDirectories(dir.resolve("imports"));
    Files.writeString(dir.resolve("imports/patients.ndjson"), String.join("\n", lines(LINES)) + "\n",
        StandardCharsets.UTF_8);
    String status;
    try (ChildServer first = ChildServer.start(dir, port, FLAGS)) {
      try (Connection lock = first.dataSource().getConnection(); Connection watch = first.dataSource().getConnection()) {
        holdRow(lock);
        status = kickOff(first, "IncrementalLoad");
        awaitLine(watch, 1001);
        awaitLockWait(watch, "insert into resource (res_type%");
        first.kill();
        lock.rollback();
      }
    }
    resumeAndCheck(dir, port, status);
  }

  /**
   * InitialLoad stages its lines: the input is a pipe that gives the first 1,500 lines and then
   * nothing, so the first batch is staged and committed and the second waits for its lines.
   * Nothing of the import is visible meanwhile; then kill -9, and the restart reads the input again.
   */
  @Test
  void kill_9_while_an_initial_load_stages_its_input_then_restart_imports_every_line_exactly_once() throws Exception {
    Path dir = Files.createTempDirectory("sluice-import-kill");
    int port = ChildServer.freePort();
    Path input = dir.resolve("imports/patients.ndjson");
    Files.createDirectories(input.getParent());
    assertThat(new ProcessBuilder("mkfifo", input.toString()).inheritIO().start().waitFor()).isZero();
    CountDownLatch release = new CountDownLatch(1);
    Thread writer = Thread.ofPlatform().start(() -> {
      try (OutputStream out = Files.newOutputStream(input)) {
        out.write((String.join("\n", lines(HELD)) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        release.await();
      } catch (IOException | InterruptedException e) {
        // the reader died with the server: nothing more to give it
      }
    });
    String status;
    try (ChildServer first = ChildServer.start(dir, port, FLAGS)) {
      try (Connection watch = first.dataSource().getConnection()) {
        status = kickOff(first, "InitialLoad");
        awaitLine(watch, 1001);
        // 1,000 lines staged and committed: readers still see an empty type
        assertThat(ImportClient.read(send("GET", first.base() + "/Patient?_summary=count", null).body())
            .path("total").asLong()).isZero();
        assertThat(send("GET", first.base() + "/Patient/dur-1", null).statusCode()).isEqualTo(404);
        try (ResultSet rs = watch.createStatement().executeQuery("select count(*) from resource")) {
          rs.next();
          assertThat(rs.getLong(1)).isZero();
        }
        first.kill();
      }
    } finally {
      release.countDown();
      unblock(writer, input);
    }
    Files.delete(input);
    Files.writeString(input, String.join("\n", lines(LINES)) + "\n", StandardCharsets.UTF_8);
    resumeAndCheck(dir, port, status);
  }

  /**
   * Every input staged, the merge waits for the lock of an uncommitted resource row (a writer
   * in the middle of its transaction); kill -9 there, and the restart merges again.
   */
  @Test
  void kill_9_during_an_initial_load_merge_then_restart_imports_every_line_exactly_once() throws Exception {
    Path dir = Files.createTempDirectory("sluice-import-kill");
    int port = ChildServer.freePort();
    Files.createDirectories(dir.resolve("imports"));
    Files.writeString(dir.resolve("imports/patients.ndjson"), String.join("\n", lines(LINES)) + "\n",
        StandardCharsets.UTF_8);
    String status;
    try (ChildServer first = ChildServer.start(dir, port, FLAGS)) {
      try (Connection lock = first.dataSource().getConnection(); Connection watch = first.dataSource().getConnection()) {
        holdRow(lock);
        status = kickOff(first, "InitialLoad");
        awaitLine(watch, LINES + 1);
        awaitLockWait(watch, "lock table resource%");
        first.kill();
        lock.rollback();
      }
    }
    resumeAndCheck(dir, port, status);
  }

  /**
   * Ends the thread writing into a pipe; when the server never opened the pipe (the test failed
   * before), the thread still waits for a reader: this reads the pipe to its end instead.
   */
  static void unblock(Thread writer, Path pipe) throws Exception {
    writer.join(2000);
    if (writer.isAlive()) {
      try (java.io.InputStream in = Files.newInputStream(pipe)) {
        in.transferTo(OutputStream.nullOutputStream());
      }
      writer.join();
    }
  }

  private static final String[] FLAGS = {"--export-lease", "3"};

  private static List<String> lines(int n) {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      lines.add(patient(i));
    }
    return lines;
  }

  /** An uncommitted resource row: a write that touches it waits for this transaction. */
  private static void holdRow(Connection lock) throws Exception {
    lock.setAutoCommit(false);
    lock.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
        + " values ('Patient', 'dur-" + HELD + "', 1, now(), false)");
  }

  private String kickOff(ChildServer server, String mode) throws Exception {
    HttpResponse<String> kick = send("POST", server.base() + "/$import",
        ImportClient.request(mode, "patients.ndjson", "Patient"));
    assertThat(kick.statusCode()).as(kick.body()).isEqualTo(202);
    return kick.headers().firstValue("Content-Location").orElseThrow();
  }

  private void resumeAndCheck(Path dir, int port, String status) throws Exception {
    try (ChildServer second = ChildServer.start(dir, port, FLAGS)) {
      JsonNode result = null;
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (result == null) {
        HttpResponse<String> s = send("GET", status, null);
        if (s.statusCode() == 200) {
          result = ImportClient.read(s.body());
        } else {
          assertThat(s.statusCode()).as(s.body()).isEqualTo(202);
          assertThat(System.nanoTime()).as("import finished in time").isLessThan(deadline);
          Thread.sleep(200);
        }
      }
      assertThat(ImportClient.imported(result)).isEqualTo(LINES);
      assertThat(result.get("error")).isEmpty();
      try (Connection c = second.dataSource().getConnection();
          ResultSet rs = c.createStatement().executeQuery(
              "select count(*), count(distinct pk), max(version) from resource_version where res_type = 'Patient'")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(LINES);
        assertThat(rs.getLong(2)).isEqualTo(LINES);
        assertThat(rs.getInt(3)).isEqualTo(1);
      }
      try (Connection c = second.dataSource().getConnection(); ResultSet rs = c.createStatement().executeQuery(
          "select count(*) from pg_tables where tablename like 'import_stage_%'")) {
        rs.next();
        assertThat(rs.getLong(1)).as("staging tables dropped").isZero();
      }
      JsonNode search = ImportClient.read(send("GET", second.base() + "/Patient?family=Line2500", null).body());
      assertThat(search.path("entry").size()).isEqualTo(1);
      JsonNode count = ImportClient.read(send("GET", second.base() + "/Patient?_summary=count", null).body());
      assertThat(count.path("total").asLong()).isEqualTo(LINES);
    } finally {
      dev.sluice.testing.TestServer.deleteTree(dir);
    }
  }
  @Test
  void a_batch_that_waits_longer_than_the_lease_keeps_its_part() throws Exception {
    Path dir = Files.createTempDirectory("sluice-import-wait");
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= LINES; i++) {
      lines.add(patient(i));
    }
    Files.createDirectories(dir.resolve("imports"));
    Files.writeString(dir.resolve("imports/patients.ndjson"), String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    try (ChildServer server = ChildServer.start(dir, ChildServer.freePort(), "--export-lease", "2")) {
      String status;
      try (Connection lock = server.dataSource().getConnection(); Connection watch = server.dataSource().getConnection()) {
        lock.setAutoCommit(false);
        lock.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
            + " values ('Patient', 'dur-" + HELD + "', 1, now(), false)");
        HttpResponse<String> kick = send("POST", server.base() + "/$import",
            ImportClient.request("IncrementalLoad", "patients.ndjson", "Patient"));
        assertThat(kick.statusCode()).as(kick.body()).isEqualTo(202);
        status = kick.headers().firstValue("Content-Location").orElseThrow();
        awaitLine(watch, 1001);
        awaitLockWait(watch, "insert into resource (res_type%");
        int waiting = attempt(watch);
        awaitLeaseLapsed(watch);

        // the worker is alive, only slow: a claim (of this process's other worker, or of another process) must not
        // take its part, or each lapse would cost an attempt and a long wait would fail the job
        assertThat(new dev.sluice.store.ImportJobTable(server.dataSource()).claim("intruder", java.time.Duration
            .ofMinutes(1))).isEmpty();
        assertThat(attempt(watch)).as("still the waiting batch's attempt").isEqualTo(waiting);
        lock.rollback();
      }
      JsonNode result = null;
      long deadline = System.nanoTime() + 120_000_000_000L;
      while (result == null) {
        HttpResponse<String> s = send("GET", status, null);
        if (s.statusCode() == 200) {
          result = ImportClient.read(s.body());
        } else {
          assertThat(s.statusCode()).as(s.body()).isEqualTo(202);
          assertThat(System.nanoTime()).as("import finished in time").isLessThan(deadline);
          Thread.sleep(200);
        }
      }
      assertThat(ImportClient.imported(result)).isEqualTo(LINES);
      assertThat(result.get("error")).isEmpty();
    } finally {
      dev.sluice.testing.TestServer.deleteTree(dir);
    }
  }

  private static int attempt(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery("select attempt from import_part")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Waits until the part's lease has lapsed (its batch still waiting). */
  private static void awaitLeaseLapsed(Connection c) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery("select bool_and(lease_until < now()) from import_part")) {
        rs.next();
        if (rs.getBoolean(1)) {
          return;
        }
      }
      assertThat(System.nanoTime()).as("lease lapsed in time").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /** Waits until the part's checkpoint reached {@code line}: the first batch is committed. */
  private static void awaitLine(Connection c, long line) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery("select coalesce(max(next_line), 0) from import_part")) {
        rs.next();
        if (rs.getLong(1) >= line) {
          return;
        }
      }
      assertThat(System.nanoTime()).as("first batch committed in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /** Waits until a statement like {@code query} waits for a lock (the held row). */
  static void awaitLockWait(Connection c, String query) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery(
          "select count(*) from pg_stat_activity where wait_event_type = 'Lock' and query like '" + query + "'")) {
        rs.next();
        if (rs.getLong(1) > 0) {
          return;
        }
      }
      assertThat(System.nanoTime()).as("second batch waiting in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}

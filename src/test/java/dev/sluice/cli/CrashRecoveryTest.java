package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server as its own JVM, killed with -9: what it acknowledged is there after a restart on
 * the same data directory, and the PostgreSQL it left running is stopped by the next start.
 * With its PostgreSQL killed -9 as well, the restart has to replay the WAL. Stopped as a service
 * manager stops it (SIGTERM), it closes its connections before it stops PostgreSQL.
 */
class CrashRecoveryTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Process> processes = new ArrayList<>();
  private Path dataDir;

  @AfterEach
  void cleanUp() throws Exception {
    for (Process p : processes) {
      p.destroy();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    }
    if (dataDir != null) {
      stopPostmaster(dataDir);
      TestServer.deleteTree(dataDir);
    }
  }

  @Test
  void acknowledged_writes_survive_kill_9_and_the_next_start_stops_the_orphaned_postgres() throws Exception {
    dataDir = Files.createTempDirectory("sluice-crash");
    int port = freePort();
    Process first = serve(port, "first");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      String id = UUID.randomUUID().toString();
      HttpResponse<String> r = send("PUT", port, "Patient/" + id,
          "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\"}");
      assertThat(r.statusCode()).isEqualTo(201);
      ids.add(id);
    }
    long postmaster = postmasterPid(dataDir).orElseThrow();

    first.destroyForcibly();
    assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(ProcessHandle.of(postmaster).map(ProcessHandle::isAlive)).as("postgres outlives a kill -9 of the JVM")
        .hasValue(true);

    serve(port, "second");
    assertThat(ProcessHandle.of(postmaster).filter(ProcessHandle::isAlive)).as("the orphan was stopped").isEmpty();
    for (String id : ids) {
      HttpResponse<String> r = send("GET", port, "Patient/" + id, null);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("\"versionId\":\"1\"");
    }
  }

  @Test
  void acknowledged_writes_survive_kill_9_of_the_server_and_then_of_its_postgres() throws Exception {
    dataDir = Files.createTempDirectory("sluice-crash");
    int port = freePort();
    Process first = serve(port, "first");
    List<String> acknowledged = Collections.synchronizedList(new ArrayList<>());
    // writes keep coming while the kills land; each one that got its 201 must be there after
    Thread writer = Thread.ofVirtual().start(() -> {
      while (true) {
        String id = UUID.randomUUID().toString();
        try {
          if (send("PUT", port, "Patient/" + id,
              "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}").statusCode() == 201) {
            acknowledged.add(id);
          }
        } catch (Exception e) {
          return; // the server is gone
        }
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (acknowledged.size() < 50) {
      assertThat(System.nanoTime()).as("50 writes within 60 s").isLessThan(deadline);
      Thread.sleep(20);
    }
    ProcessHandle postmaster = postmasterPid(dataDir).flatMap(ProcessHandle::of).orElseThrow();

    first.destroyForcibly();
    assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
    postmaster.destroyForcibly();
    postmaster.onExit().get(30, TimeUnit.SECONDS);
    writer.join();
    assertThat(controlFileState(dataDir)).as("PostgreSQL stopped without a shutdown checkpoint")
        .isEqualTo(DB_IN_PRODUCTION);

    serve(port, "second");
    List<String> ids = List.copyOf(acknowledged);
    assertThat(ids).hasSizeGreaterThanOrEqualTo(50);
    for (String id : ids) {
      HttpResponse<String> r = send("GET", port, "Patient/" + id, null);
      assertThat(r.statusCode()).as(id).isEqualTo(200);
      assertThat(r.body()).contains("\"versionId\":\"1\"");
    }
  }

  @Test
  void a_stop_ends_the_servers_own_connections_before_postgres_shuts_down() throws Exception {
    dataDir = Files.createTempDirectory("sluice-stop");
    int port = freePort();
    Process server = serve(port, "server");
    assertThat(send("PUT", port, "Patient/stop-1", "{\"resourceType\":\"Patient\",\"id\":\"stop-1\"}")
        .statusCode()).isEqualTo(201);
    // the API's pool and the export pool hold connections now
    assertThat(send("GET", port, "Patient?_count=1", null).statusCode()).isEqualTo(200);

    server.destroy();
    assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(Files.readString(dataDir.resolve("server.log"))).contains("Sluice stopped");
    assertThat(controlFileState(dataDir)).as("a shutdown checkpoint").isEqualTo(DB_SHUTDOWNED);
    String postgresLog;
    try (var logs = Files.list(dataDir.resolve("postgres/log"))) {
      postgresLog = String.join("\n", logs.map(f -> {
        try {
          return Files.readString(f);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList());
    }
    assertThat(postgresLog).contains("database system is shut down")
        .doesNotContain("terminating connection due to administrator command");
  }

  /** pg_control's DBState: a clean stop writes 1 (shut down). */
  private static final int DB_SHUTDOWNED = 1;

  /** pg_control's DBState: 6 while the server runs; a clean stop writes 1 (shut down). */
  private static final int DB_IN_PRODUCTION = 6;

  /**
   * The state PostgreSQL recorded last in {@code global/pg_control}: after system_identifier
   * (8 bytes), pg_control_version and catalog_version_no (4 each), in the machine's byte order.
   */
  private static int controlFileState(Path dataDir) throws IOException {
    byte[] control = Files.readAllBytes(dataDir.resolve("postgres/global/pg_control"));
    return java.nio.ByteBuffer.wrap(control, 16, 4).order(java.nio.ByteOrder.nativeOrder()).getInt();
  }

  private Process serve(int port, String name) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", System.getProperty("java.class.path"),
        "dev.sluice.cli.Main", "serve", "--port", Integer.toString(port), "--data-dir", dataDir.toString())
        .redirectErrorStream(true)
        .redirectOutput(dataDir.resolve(name + ".log").toFile())
        .start();
    processes.add(p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new AssertionError("the server exited: " + Files.readString(dataDir.resolve(name + ".log")));
      }
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return p;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the server did not answer within 120 s");
  }

  private HttpResponse<String> send(String method, int port, String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/fhir/" + path))
        .timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/fhir+json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static Optional<Long> postmasterPid(Path dataDir) throws IOException {
    Path pidFile = dataDir.resolve("postgres/postmaster.pid");
    if (!Files.exists(pidFile)) {
      return Optional.empty();
    }
    return Optional.of(Long.parseLong(Files.readAllLines(pidFile).getFirst().trim()));
  }

  /** A test that fails half-way must not leave a postgres running. */
  private static void stopPostmaster(Path dataDir) throws Exception {
    Optional<ProcessHandle> pm = postmasterPid(dataDir).flatMap(ProcessHandle::of).filter(ProcessHandle::isAlive);
    if (pm.isPresent()) {
      pm.get().destroy();
      pm.get().onExit().get(60, TimeUnit.SECONDS);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}

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
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The server as its own JVM, killed with -9: what it acknowledged is there after a restart on
 * the same data directory, and the PostgreSQL it left running is stopped by the next start.
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

package dev.sluice.pull;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ExportRun;
import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sluice export} as its own process, stopped the hard way ({@code kill -9}) and the
 * polite way (SIGTERM, as Ctrl-C without a terminal), then continued.
 */
class ClientCrashTest {
  private FakeBulkServer server;
  private Path out;
  private Path log;

  @BeforeEach
  void start() throws Exception {
    server = new FakeBulkServer();
    out = Files.createTempDirectory("sluice-pull-crash");
    log = Files.createTempFile("sluice-pull-child", ".log");
  }

  @AfterEach
  void stop() throws Exception {
    server.close();
    TestServer.deleteTree(out);
    Files.deleteIfExists(log);
  }

  private Process child(String... args) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        "dev.sluice.cli.Main", "export"));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  /** Waits until the state the test needs is there, or the child has died. */
  private static void awaitState(Process p, java.util.function.BooleanSupplier state) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!state.getAsBoolean()) {
      assertThat(p.isAlive()).as("the child is still running").isTrue();
      assertThat(System.nanoTime()).as("waiting for the child").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void a_client_killed_mid_file_resumes_with_range_and_fetches_no_byte_twice() throws Exception {
    byte[] patients = MisbehavingServerTest.ndjson("Patient", 2000);
    byte[] conditions = MisbehavingServerTest.ndjson("Condition", 50);
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.HOLD_HALFWAY);
    server.file("/files/Condition.ndjson", conditions, FakeBulkServer.FirstAnswer.WHOLE);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/9"));
    server.statuses.add(new FakeBulkServer.Answer(200, Map.of(), server.manifest(true, List.of(
        new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "2000"},
        new String[] {"Condition", server.origin() + "/files/Condition.ndjson", "50"}), List.of())));
    Path part = out.resolve("Patient-1.ndjson.part");
    int half = patients.length / 2;

    Process p = child("--server", server.base(), "--out", out.toString(), "--token", "t9", "--parallel", "2");
    awaitState(p, () -> server.halfSent.getCount() == 0 && size(part) == half
        && Files.exists(out.resolve("Condition-1.ndjson")));
    p.destroyForcibly();
    p.waitFor();
    server.release.countDown();
    int statusPolls = server.seen("/fhir/status/9").size();

    ExportRun resumed = ExportRun.of("--server", server.base(), "--out",
        out.toString(), "--token", "t9", "--resume");

    assertThat(resumed.exitCode()).as(resumed.err() + resumed.out()).isZero();
    assertThat(Files.readAllBytes(out.resolve("Patient-1.ndjson"))).isEqualTo(patients);
    assertThat(Files.readAllBytes(out.resolve("Condition-1.ndjson"))).isEqualTo(conditions);
    assertThat(part).doesNotExist();
    // the bytes on disk before the kill were not asked for again; the finished file not at all
    List<FakeBulkServer.Seen> gets = server.seen("/files/Patient.ndjson");
    assertThat(gets).hasSize(2);
    assertThat(gets.get(1).range()).isEqualTo("bytes=" + half + "-");
    assertThat(server.seen("/files/Condition.ndjson")).hasSize(1);
    // the manifest came from the directory, not from the server
    assertThat(server.seen("/fhir/status/9")).hasSize(statusPolls);
  }

  @Test
  void a_client_killed_while_loading_into_a_server_resumes_without_loading_a_finished_file_again() throws Exception {
    byte[] patients = IntoTest.fixture("Patient");
    byte[] conditions = IntoTest.fixture("Condition");
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.WHOLE);
    server.file("/files/Condition.ndjson", conditions, FakeBulkServer.FirstAnswer.HOLD_HALFWAY);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/8"));
    server.statuses.add(new FakeBulkServer.Answer(200, Map.of(), server.manifest(false, List.of(
        new String[] {"Condition", server.origin() + "/files/Condition.ndjson"},
        new String[] {"Patient", server.origin() + "/files/Patient.ndjson"}), List.of())));
    Path ledger = out.resolve("into-loaded");
    try (TestServer target = TestServer.startFresh()) {
      Process p = child("--server", server.base(), "--out", out.toString(), "--parallel", "2",
          "--into", target.base());
      // Patient loaded and noted, Condition held halfway by the server: then the client dies
      awaitState(p, () -> server.halfSent.getCount() == 0 && read(ledger).contains("Patient-1.ndjson"));
      String loaded = target.get("Patient?_count=100").body();
      p.destroyForcibly();
      p.waitFor();
      server.release.countDown();

      ExportRun resumed = ExportRun.of("--server", server.base(), "--out", out.toString(), "--resume",
          "--into", target.base());

      assertThat(resumed.exitCode()).as(resumed.err() + resumed.out()).isZero();
      assertThat(resumed.out()).contains("Patient-1.ndjson: loaded by an earlier run");
      assertThat(IntoTest.total(target, "Patient")).isEqualTo(
          dev.sluice.testing.Fixtures.ndjson(dev.sluice.testing.Fixtures.small(), "Patient").size());
      assertThat(IntoTest.total(target, "Condition"))
          .isEqualTo(dev.sluice.testing.Fixtures.ndjson(dev.sluice.testing.Fixtures.small(), "Condition").size());
      assertThat(IntoTest.versions(target.get("Patient?_count=100").body())).isNotEmpty()
          .isEqualTo(IntoTest.versions(loaded));
      assertThat(Files.readAllBytes(out.resolve("Condition-1.ndjson"))).isEqualTo(conditions);
    }
  }

  @Test
  void interrupted_without_a_terminal_the_export_is_left_running_and_its_status_url_printed() throws Exception {
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/5"));
    server.statuses.add(FakeBulkServer.Answer.of(202, "X-Progress", "still going", "Retry-After", "1"));

    Process p = child("--server", server.base(), "--out", out.toString());
    awaitState(p, () -> !server.seen("/fhir/status/5").isEmpty());
    p.destroy();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    String printed = Files.readString(log);
    assertThat(printed).contains("the export is left on the server. Status URL: " + server.base() + "/status/5")
        .contains("--resume --out " + out);
    assertThat(server.seen("/fhir/status/5")).noneMatch(s -> s.method().equals("DELETE"));
  }

  /**
   * The client on a real pseudo-terminal: util-linux {@code script} runs it with the pty as its
   * stdin and stdout and relays what the test writes to its own stdin, so a {@code ^C} byte is
   * turned into SIGINT by the terminal's line discipline, as a user's Ctrl-C is.
   */
  private Process childOnTerminal(String... args) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    // SIGINT at its default in the client, even when this JVM was started with it ignored (a suite
    // started in the background by a script): else the terminal's ^C would reach nothing
    List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT", java, "-Xmx256m", "-cp",
        System.getProperty("java.class.path"), "dev.sluice.cli.Main", "export"));
    cmd.addAll(List.of(args));
    StringBuilder line = new StringBuilder();
    for (String c : cmd) {
      line.append('\'').append(c.replace("'", "'\\''")).append("' ");
    }
    return new ProcessBuilder("script", "-q", "-e", "-c", line.toString(), "/dev/null").redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
  }

  private void interruptOnTerminalAndAnswer(String answer, String statusPath) throws Exception {
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + statusPath));
    server.statuses.add(FakeBulkServer.Answer.of(202, "X-Progress", "still going", "Retry-After", "1"));
    Process p = childOnTerminal("--server", server.base(), "--out", out.toString());
    awaitState(p, () -> !server.seen("/fhir" + statusPath).isEmpty());
    p.getOutputStream().write(3); // Ctrl-C
    p.getOutputStream().flush();
    awaitState(p, () -> read(log).contains("Cancel the export on the server? [y/N]"));
    p.getOutputStream().write((answer + "\r").getBytes(java.nio.charset.StandardCharsets.UTF_8));
    p.getOutputStream().flush();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as(read(log)).isTrue();
  }

  @Test
  void ctrl_c_on_a_terminal_asks_and_yes_cancels_the_export_on_the_server() throws Exception {
    interruptOnTerminalAndAnswer("y", "/status/6");

    assertThat(read(log)).contains("The export at " + server.base() + "/status/6 is cancelled.");
    assertThat(server.seen("/fhir/status/6")).filteredOn(s -> s.method().equals("DELETE")).hasSize(1);
  }

  @Test
  void ctrl_c_on_a_terminal_answered_no_leaves_the_export_running_and_prints_its_status_url() throws Exception {
    interruptOnTerminalAndAnswer("n", "/status/7");

    assertThat(read(log)).contains("the export is left on the server. Status URL: " + server.base() + "/status/7")
        .contains("--resume --out " + out);
    assertThat(server.seen("/fhir/status/7")).noneMatch(s -> s.method().equals("DELETE"));
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      return "";
    }
  }

  private static long size(Path file) {
    try {
      return Files.exists(file) ? Files.size(file) : -1;
    } catch (java.io.IOException e) {
      return -1;
    }
  }
}

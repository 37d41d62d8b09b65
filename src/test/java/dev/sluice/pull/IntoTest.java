package dev.sluice.pull;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ExportRun;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code sluice export --into}: files are loaded into the target (a real Sluice) as each one is
 * complete, while others are still downloading from the source (a scripted Bulk Data server that
 * can hold a file halfway); a file loaded again changes nothing on the target.
 */
class IntoTest {
  private static TestServer target;
  private FakeBulkServer source;
  private Path out;

  @BeforeAll
  static void startTarget() {
    target = TestServer.startFresh();
  }

  @AfterAll
  static void stopTarget() {
    target.close();
  }

  @BeforeEach
  void start() throws Exception {
    source = new FakeBulkServer();
    out = Files.createTempDirectory("sluice-pull-into");
  }

  @AfterEach
  void stop() {
    source.close();
    TestServer.deleteTree(out);
  }

  static byte[] fixture(String type) {
    return fixture(type, "");
  }

  /** The small fixture's resources of a type, each id prefixed: new resources for a target that has the others. */
  static byte[] fixture(String type, String idPrefix) {
    StringBuilder s = new StringBuilder();
    for (String line : Fixtures.ndjson(Fixtures.small(), type)) {
      s.append(line.replaceFirst("\"id\":\"", "\"id\":\"" + idPrefix)).append('\n');
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The source's export: Patient served whole, Condition as {@code conditions} says. */
  private void export(String status, FakeBulkServer.FirstAnswer conditions, String idPrefix) {
    source.file("/files/Patient.ndjson", fixture("Patient", idPrefix), FakeBulkServer.FirstAnswer.WHOLE);
    source.file("/files/Condition.ndjson", fixture("Condition"), conditions);
    source.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", source.base() + status));
    source.statuses.add(new FakeBulkServer.Answer(200, Map.of(), source.manifest(false, List.of(
        new String[] {"Condition", source.origin() + "/files/Condition.ndjson"},
        new String[] {"Patient", source.origin() + "/files/Patient.ndjson"}), List.of())));
  }

  static long total(TestServer server, String type) {
    String body = server.get(type + "?_summary=count").body();
    return Long.parseLong(body.replaceAll("(?s).*\"total\":(\\d+).*", "$1"));
  }

  @Test
  void a_complete_file_is_loaded_while_another_is_still_downloading() throws Exception {
    // Patients the target does not have yet, whatever test ran before
    export("/status/1", FakeBulkServer.FirstAnswer.HOLD_HALFWAY, "ov-");
    long patients = Fixtures.ndjson(Fixtures.small(), "Patient").size();
    long before = total(target, "Patient");

    CompletableFuture<ExportRun> run = CompletableFuture.supplyAsync(() -> ExportRun.of("--server", source.base(),
        "--out", out.toString(), "--parallel", "2", "--into", target.base()));
    // Condition's download is held halfway by the source until the test lets it go: Patient can only be on the
    // target now if it was loaded while Condition was still downloading
    assertThat(source.halfSent.await(60, TimeUnit.SECONDS)).isTrue();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (total(target, "Patient") < before + patients) {
      assertThat(run).as("the export is still running").isNotDone();
      assertThat(System.nanoTime()).as("Patient loaded while Condition is held").isLessThan(deadline);
      Thread.sleep(100);
    }
    assertThat(out.resolve("Condition-1.ndjson")).doesNotExist();
    source.release.countDown();
    ExportRun done = run.get(120, TimeUnit.SECONDS);

    assertThat(done.exitCode()).as(done.err() + done.out()).isZero();
    assertThat(total(target, "Condition")).isEqualTo(Fixtures.ndjson(Fixtures.small(), "Condition").size());
    assertThat(done.out()).contains("Loaded into " + target.base());
  }

  @Test
  void a_file_loaded_again_after_a_crash_before_its_ledger_line_changes_nothing_on_the_target() throws Exception {
    export("/status/2", FakeBulkServer.FirstAnswer.WHOLE, "");
    ExportRun first = ExportRun.of("--server", source.base(), "--out", out.toString(), "--into", target.base());
    assertThat(first.exitCode()).as(first.err() + first.out()).isZero();
    Path ledger = out.resolve("into-loaded");
    assertThat(Files.readString(ledger)).contains("Patient-1.ndjson").contains("Condition-1.ndjson");
    // as if the client had died after loading Patient-1 but before noting it: it is loaded again on --resume
    List<String> kept = Files.readAllLines(ledger).stream().filter(l -> !l.contains("Patient-1.ndjson")).toList();
    Files.write(ledger, kept);
    String patientsBefore = target.get("Patient?_count=100").body();

    ExportRun resumed = ExportRun.of("--server", source.base(), "--out", out.toString(), "--resume",
        "--into", target.base());

    assertThat(resumed.exitCode()).as(resumed.err() + resumed.out()).isZero();
    assertThat(resumed.out()).contains("Condition-1.ndjson: loaded by an earlier run").contains("Patient-1.ndjson: ");
    // PUT of an unchanged resource writes no version: the target is as it was
    assertThat(target.get("Patient?_count=100").body()).doesNotContain("\"versionId\":\"2\"");
    assertThat(versions(target.get("Patient?_count=100").body())).isNotEmpty().isEqualTo(versions(patientsBefore));
    assertThat(Files.readString(ledger)).contains("Patient-1.ndjson");
  }

  /** Every resource's version and lastUpdated in a search answer, sorted. */
  static List<String> versions(String bundle) {
    return java.util.regex.Pattern.compile("\"versionId\":\"\\d+\",\"lastUpdated\":\"[^\"]+\"").matcher(bundle)
        .results().map(java.util.regex.MatchResult::group).sorted().toList();
  }
}

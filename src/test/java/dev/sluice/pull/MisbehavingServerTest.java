package dev.sluice.pull;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.ExportRun;
import dev.sluice.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code sluice export} against a server that behaves as other vendors' servers sometimes do. */
class MisbehavingServerTest {
  private FakeBulkServer server;
  private Path out;

  @BeforeEach
  void start() throws Exception {
    server = new FakeBulkServer();
    out = Files.createTempDirectory("sluice-pull");
  }

  @AfterEach
  void stop() {
    server.close();
    TestServer.deleteTree(out);
  }

  static byte[] ndjson(String type, int n) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < n; i++) {
      s.append("{\"resourceType\":\"").append(type).append("\",\"id\":\"").append(type.toLowerCase()).append(i)
          .append("\",\"text\":\"").append("x".repeat(200)).append("\"}\n");
    }
    return s.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void waits_out_429_and_503_survives_a_dropped_connection_and_a_redirect_and_gets_every_file_exactly()
      throws Exception {
    byte[] patients = ndjson("Patient", 500);
    byte[] observations = ndjson("Observation", 300);
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.DROP_HALFWAY);
    server.file("/blob/Observation.ndjson", observations, FakeBulkServer.FirstAnswer.WHOLE);
    server.redirect("/files/Observation.ndjson", server.otherOrigin() + "/blob/Observation.ndjson");
    server.kickOffs.add(FakeBulkServer.Answer.of(429, "Retry-After", "1"));
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/1"));
    server.statuses.add(FakeBulkServer.Answer.of(202, "X-Progress", "planning", "Retry-After", "1"));
    server.statuses.add(FakeBulkServer.Answer.of(503, "Retry-After", "1"));
    server.statuses.add(FakeBulkServer.Answer.of(202, "X-Progress", "50% done", "Retry-After", "1"));
    server.statuses.add(new FakeBulkServer.Answer(200, java.util.Map.of("Content-Type", "application/json"),
        server.manifest(true, List.of(
            new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "500"},
            new String[] {"Observation", server.origin() + "/files/Observation.ndjson", "300"}), List.of())));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(), "--token", "t1", "--type",
        "Patient,Observation");

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    assertThat(Files.readAllBytes(out.resolve("Patient-1.ndjson"))).isEqualTo(patients);
    assertThat(Files.readAllBytes(out.resolve("Observation-1.ndjson"))).isEqualTo(observations);
    assertThat(out.resolve("manifest.json")).exists();
    assertThat(run.out()).contains("Export complete").containsPattern("Patient\\s+1\\s+500");
    assertThat(run.err()).contains("planning").contains("50% done");
    // 429 and 503 were waited out: the kick-off sent twice, the status polled four times
    assertThat(server.seen("/fhir/$export")).hasSize(2);
    assertThat(server.seen("/fhir/status/1")).hasSize(4)
        .allSatisfy(s -> assertThat(s.authorization()).isEqualTo("Bearer t1"));
    // the dropped file: asked again from exactly where the first answer broke off
    List<FakeBulkServer.Seen> patientGets = server.seen("/files/Patient.ndjson");
    assertThat(patientGets).hasSize(2);
    assertThat(patientGets.get(0).range()).isNull();
    assertThat(patientGets.get(1).range()).isEqualTo("bytes=" + patients.length / 2 + "-");
    // the token went to the server's origin, never to the blob on another one
    assertThat(server.seen("/files/Observation.ndjson")).singleElement()
        .satisfies(s -> assertThat(s.authorization()).isEqualTo("Bearer t1"));
    assertThat(server.seen("/blob/Observation.ndjson")).singleElement()
        .satisfies(s -> assertThat(s.authorization()).isNull());
  }

  private static FakeBulkServer.Answer outcome(int status, String code, String diagnostics, String... headers) {
    java.util.Map<String, String> map = new java.util.LinkedHashMap<>(FakeBulkServer.Answer.of(status, headers).headers());
    map.put("Content-Type", "application/fhir+json");
    return new FakeBulkServer.Answer(status, map, "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":"
        + "\"error\",\"code\":\"" + code + "\",\"diagnostics\":\"" + diagnostics + "\"}]}");
  }

  @Test
  void a_500_while_polling_that_does_not_say_the_job_failed_is_tried_again_and_the_export_completes()
      throws Exception {
    byte[] patients = ndjson("Patient", 5);
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.WHOLE);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/5"));
    server.statuses.add(FakeBulkServer.Answer.of(202, "X-Progress", "planning", "Retry-After", "0"));
    // a proxy's page, then the guide's way of saying "poll again later" (issue code transient)
    server.statuses.add(new FakeBulkServer.Answer(500, java.util.Map.of("Retry-After", "0"), "<html>upstream error</html>"));
    server.statuses.add(outcome(500, "transient", "database failover in progress", "Retry-After", "0"));
    server.statuses.add(new FakeBulkServer.Answer(200, java.util.Map.of("Content-Type", "application/json"),
        server.manifest(true, List.<String[]>of(new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "5"}),
            List.of())));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString());

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    assertThat(Files.readAllBytes(out.resolve("Patient-1.ndjson"))).isEqualTo(patients);
    assertThat(server.seen("/fhir/status/5")).hasSize(4);
    assertThat(run.err()).contains("HTTP 500").contains("database failover in progress");
  }

  @Test
  void a_500_whose_outcome_says_the_export_failed_ends_the_run_at_once() {
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/6"));
    server.statuses.add(outcome(500, "exception", "the part Observation-3 failed 3 times"));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString());

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err()).contains("failed: HTTP 500").contains("the part Observation-3 failed 3 times");
    assertThat(server.seen("/fhir/status/6")).hasSize(1);
  }

  @Test
  void a_500_that_does_not_go_away_ends_the_run_after_the_limit() {
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/7"));
    server.statuses.add(new FakeBulkServer.Answer(500, java.util.Map.of("Retry-After", "0"), "upstream error"));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString());

    assertThat(run.exitCode()).isNotZero();
    assertThat(run.err()).contains("failed: HTTP 500 (upstream error)");
    assertThat(server.seen("/fhir/status/7")).hasSize(StatusPoller.MAX_SERVER_ERRORS);
  }

  @Test
  void error_files_are_kept_apart_and_make_the_export_incomplete() throws Exception {
    byte[] patients = ndjson("Patient", 3);
    byte[] errors = ("{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\","
        + "\"diagnostics\":\"Observation/o9 could not be read\"}]}\n").getBytes(StandardCharsets.UTF_8);
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.WHOLE);
    server.file("/files/errors.ndjson", errors, FakeBulkServer.FirstAnswer.WHOLE);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/2"));
    server.statuses.add(new FakeBulkServer.Answer(200, java.util.Map.of(), server.manifest(false,
        List.<String[]>of(new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "3"}),
        List.<String[]>of(new String[] {"OperationOutcome", server.origin() + "/files/errors.ndjson"}))));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(), "--post");

    assertThat(run.exitCode()).as(run.err() + run.out()).isEqualTo(1);
    assertThat(Files.readAllBytes(out.resolve("Patient-1.ndjson"))).isEqualTo(patients);
    assertThat(Files.readAllBytes(out.resolve("error/OperationOutcome-1.ndjson"))).isEqualTo(errors);
    assertThat(run.out()).contains("the server reported 1 errors").contains("Observation/o9 could not be read");
    // requiresAccessToken false: no token anywhere near the files (and none was given)
    assertThat(server.seen("/files/Patient.ndjson")).allSatisfy(s -> assertThat(s.authorization()).isNull());
    assertThat(server.seen("/fhir/$export")).singleElement().satisfies(s -> assertThat(s.method()).isEqualTo("POST"));
  }

  @Test
  void a_file_that_does_not_hold_what_the_manifest_says_fails_the_export() throws Exception {
    byte[] patients = ndjson("Patient", 3);
    byte[] mixed = (new String(ndjson("Condition", 1), StandardCharsets.UTF_8) + "not json\n")
        .getBytes(StandardCharsets.UTF_8);
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.WHOLE);
    server.file("/files/Condition.ndjson", mixed, FakeBulkServer.FirstAnswer.WHOLE);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/3"));
    server.statuses.add(new FakeBulkServer.Answer(200, java.util.Map.of(), server.manifest(false, List.of(
        new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "4"},
        new String[] {"Condition", server.origin() + "/files/Condition.ndjson"}), List.of())));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).contains("Patient-1.ndjson holds 3 resources, the manifest says 4")
        .contains("line 2 of Condition-1.ndjson is not JSON")
        .contains("Export incomplete: 2 of 2 files failed");
  }

  @Test
  void a_refused_kick_off_says_why_and_exits_2() {
    server.kickOffs.add(new FakeBulkServer.Answer(400, java.util.Map.of("Content-Type", "application/fhir+json"),
        "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"invalid\","
            + "\"diagnostics\":\"_type names an unknown type: Nope\"}]}"));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.toString(), "--type", "Nope");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("was refused: HTTP 400").contains("_type names an unknown type: Nope");
  }

  @Test
  void a_token_refused_during_polling_is_replaced_by_a_new_one_from_the_token_endpoint() throws Exception {
    Path key = out.resolve("client.jwk");
    Files.writeString(key, new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).keyID("k1").generate().toJSONString());
    Path files = out.resolve("files");
    byte[] patients = ndjson("Patient", 2);
    server.file("/files/Patient.ndjson", patients, FakeBulkServer.FirstAnswer.WHOLE);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/4"));
    server.statuses.add(FakeBulkServer.Answer.of(202, "Retry-After", "1"));
    server.statuses.add(FakeBulkServer.Answer.of(401, "WWW-Authenticate", "Bearer error=\"invalid_token\""));
    server.statuses.add(new FakeBulkServer.Answer(200, java.util.Map.of(), server.manifest(true,
        List.<String[]>of(new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "2"}), List.of())));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", files.toString(), "--client-id", "c1", "--private-key",
        key.toString());

    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
    List<FakeBulkServer.Seen> polls = server.seen("/fhir/status/4");
    assertThat(polls).extracting(FakeBulkServer.Seen::authorization)
        .containsExactly("Bearer tok-1", "Bearer tok-1", "Bearer tok-2");
    assertThat(server.seen("/files/Patient.ndjson")).singleElement()
        .satisfies(s -> assertThat(s.authorization()).isEqualTo("Bearer tok-2"));
  }

  @Test
  void gzip_is_asked_for_only_where_it_pays_unless_told() throws Exception {
    server.file("/files/Patient.ndjson", ndjson("Patient", 3), FakeBulkServer.FirstAnswer.WHOLE);
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/gz"));
    server.statuses.add(new FakeBulkServer.Answer(200, java.util.Map.of(), server.manifest(false,
        List.<String[]>of(new String[] {"Patient", server.origin() + "/files/Patient.ndjson", "3"}), List.of())));

    ExportRun near = ExportRun.of("--server", server.base(), "--out", out.resolve("near").toString());
    ExportRun always = ExportRun.of("--server", server.base(), "--out", out.resolve("always").toString(),
        "--gzip", "always");
    ExportRun wrong = ExportRun.of("--server", server.base(), "--out", out.resolve("wrong").toString(),
        "--gzip", "sometimes");

    assertThat(near.exitCode()).as(near.err()).isZero();
    assertThat(always.exitCode()).as(always.err()).isZero();
    // 127.0.0.1 is this machine: compressing there costs the server more than it saves
    assertThat(server.seen("/files/Patient.ndjson")).extracting(FakeBulkServer.Seen::acceptEncoding)
        .containsExactly("identity", "gzip");
    assertThat(wrong.exitCode()).isEqualTo(2);
    assertThat(wrong.err()).contains("--gzip is auto, always or never");
  }

  @Test
  void an_into_target_that_does_not_answer_stops_the_run_before_the_kick_off() throws Exception {
    server.kickOffs.add(FakeBulkServer.Answer.of(202, "Content-Location", server.base() + "/status/no"));

    ExportRun run = ExportRun.of("--server", server.base(), "--out", out.resolve("x").toString(),
        "--into", "http://127.0.0.1:1/fhir", "--into-import-dir", out.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("http://127.0.0.1:1/fhir does not answer as a FHIR server");
    assertThat(run.out()).doesNotContain("no Sluice");
    assertThat(server.seen).noneMatch(s -> s.path().endsWith("$export"));
  }
}

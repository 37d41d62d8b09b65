package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.cli.S3Config;
import dev.sluice.imports.ImportClient;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.ByteArrayOutputStream;
import dev.sluice.testing.ChildServer;
import java.io.IOException;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * {@code $import} of objects in the server's S3 bucket (a real S3Mock): {@code s3://} URLs and
 * the endpoint's path-style and virtual-host URLs; other buckets, missing objects and
 * mismatched ETags refused at kick-off naming the URL; large objects streamed; a corrupt one is
 * one error for its input. The server reaches S3Mock through a proxy that breaks every
 * connection after 1 MiB of answers, so a larger object never comes in one GET.
 */
@ExtendWith(S3Mock.class)
class ImportS3Test {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient RAW = HttpClient.newHttpClient();
  private static TestServer server;
  private static ImportClient client;
  private static S3Client s3;
  private static BreakingProxy proxy;

  @BeforeAll
  static void start() throws IOException {
    proxy = new BreakingProxy(URI.create(S3Mock.endpoint()).getPort(), 1024 * 1024);
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> new dev.sluice.cli.ExportConfig(
        // a lease long enough for a batch of the large object on a busy machine
        e.storage(), null, e.workers(), e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(), 60,
        e.retentionSeconds(), true, e.storeRetries())
        .withS3(new S3Config(S3Mock.BUCKET, "bulk/exports", "us-east-1", proxy.endpoint(), null,
            S3Config.DEFAULT_PART_BYTES))));
    client = new ImportClient(server);
    s3 = S3Client.builder().endpointOverride(URI.create(S3Mock.endpoint())).forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED).build();
    s3.createBucket(b -> b.bucket("other-bucket"));
  }

  @AfterAll
  static void stop() throws IOException {
    server.close();
    s3.close();
    proxy.close();
  }

  private static String put(String key, byte[] bytes) {
    return s3.putObject(p -> p.bucket(S3Mock.BUCKET).key(key), RequestBody.fromBytes(bytes)).eTag();
  }

  private static byte[] ndjson(List<String> lines) {
    return (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] gzip(byte[] bytes) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    }
    return out.toByteArray();
  }

  /** A request with one input of type Patient and the given ETag. */
  private static String withEtag(String url, String etag) {
    try {
      ObjectNode body = (ObjectNode) JSON.readTree(ImportClient.request("IncrementalLoad", url, "Patient"));
      ObjectNode input = (ObjectNode) body.get("parameter").get(2);
      input.withArray("part").addObject().put("name", "etag").put("valueString", etag);
      return body.toString();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static long total(String type) {
    String body = server.get(type + "?_summary=count").body();
    return Long.parseLong(body.replaceAll(".*\"total\":(\\d+).*", "$1"));
  }

  @Test
  void an_object_of_the_bucket_is_imported_by_its_s3_url_and_by_both_forms_of_the_endpoints_url() throws IOException {
    List<String> lines = Fixtures.ndjson(Fixtures.small(), "Patient");
    put("move/Patient.ndjson", ndjson(lines));
    URI endpoint = URI.create(proxy.endpoint());
    List<String> urls = List.of("s3://" + S3Mock.BUCKET + "/move/Patient.ndjson",
        proxy.endpoint() + "/" + S3Mock.BUCKET + "/move/Patient.ndjson",
        "http://" + S3Mock.BUCKET + "." + endpoint.getHost() + ":" + endpoint.getPort() + "/move/Patient.ndjson");

    for (String url : urls) {
      JsonNode result = client.run(ImportClient.request("IncrementalLoad", url, "Patient"));

      assertThat(ImportClient.imported(result)).as(url).isEqualTo(lines.size());
      assertThat(result.get("error")).as(url).isEmpty();
      assertThat(result.get("output").get(0).get("inputUrl").asText()).isEqualTo(url);
    }
    String id = ExportClient.id(lines.getFirst());
    JsonNode history = JSON.readTree(server.get("Patient/" + id + "/_history").body());
    assertThat(history.get("entry").size()).as("three imports of one file: one version").isEqualTo(1);
  }

  @Test
  void a_large_gzipped_object_is_streamed_through_many_reads_batches_and_broken_connections() throws IOException {
    List<String> lines = new ArrayList<>();
    java.util.Random random = new java.util.Random(7);
    for (int i = 1; i <= 3500; i++) {
      byte[] noise = new byte[750]; // random: the gzipped object stays about as large
      random.nextBytes(noise);
      lines.add("{\"resourceType\":\"Patient\",\"id\":\"s3-large-" + i + "\",\"name\":[{\"family\":\"Large" + i
          + "\",\"given\":[\"" + java.util.Base64.getEncoder().encodeToString(noise) + "\"]}]}");
    }
    byte[] gz = gzip(ndjson(lines));
    assertThat(gz.length).as("more than one read, batch and connection").isGreaterThan(2 * 1024 * 1024 + 100_000);
    put("large/Patient.ndjson.gz", gz);
    // plain: no gzip trailer to notice an answer that ends early
    put("large/Patient-again.ndjson", ndjson(lines));
    int brokenBefore = proxy.broken();

    JsonNode result = client.run(ImportClient.request("IncrementalLoad",
        "s3://" + S3Mock.BUCKET + "/large/Patient.ndjson.gz", "Patient",
        "s3://" + S3Mock.BUCKET + "/large/Patient-again.ndjson", "Patient"));

    assertThat(ImportClient.imported(result)).as("each line of both, the second time unchanged").isEqualTo(7000);
    assertThat(result.get("error")).isEmpty();
    assertThat(server.get("Patient/s3-large-3500").statusCode()).isEqualTo(200);
    assertThat(server.get("Patient?family=Large1750").body()).contains("s3-large-1750");
    assertThat(proxy.broken() - brokenBefore).as("connections broken under the GETs").isGreaterThanOrEqualTo(5);
  }

  @Test
  void a_corrupt_gzip_object_is_one_error_for_its_input_and_the_other_input_imports() throws IOException {
    List<String> good = List.of("{\"resourceType\":\"Device\",\"id\":\"s3-good-1\"}",
        "{\"resourceType\":\"Device\",\"id\":\"s3-good-2\"}");
    put("corrupt/Device-good.ndjson", ndjson(good));
    byte[] gz = gzip(ndjson(List.of("{\"resourceType\":\"Device\",\"id\":\"s3-corrupt-1\"}")));
    // the deflate stream cut short: the header is fine, the end never comes
    put("corrupt/Device-bad.ndjson.gz", Arrays.copyOf(gz, gz.length / 2));
    String bad = "s3://" + S3Mock.BUCKET + "/corrupt/Device-bad.ndjson.gz";

    JsonNode result = client.run(ImportClient.request("IncrementalLoad",
        "s3://" + S3Mock.BUCKET + "/corrupt/Device-good.ndjson", "Device", bad, "Device"));

    assertThat(ImportClient.imported(result)).isEqualTo(2);
    List<JsonNode> errors = client.errors(result);
    assertThat(errors).hasSize(1);
    assertThat(errors.getFirst().toString()).contains(bad).contains("could not be read");
    assertThat(result.get("error").get(0).get("inputUrl").asText()).isEqualTo(bad);
    assertThat(server.get("Device/s3-good-2").statusCode()).isEqualTo(200);
  }

  @Test
  void urls_outside_the_bucket_or_of_missing_objects_are_refused_at_kick_off_naming_the_url() {
    put("refuse/Patient.ndjson", ndjson(List.of("{\"resourceType\":\"Patient\",\"id\":\"s3-refused\"}")));
    s3.putObject(p -> p.bucket("other-bucket").key("refuse/Patient.ndjson"),
        RequestBody.fromString("{\"resourceType\":\"Patient\",\"id\":\"s3-other\"}\n"));
    for (String url : List.of("s3://other-bucket/refuse/Patient.ndjson",
        proxy.endpoint() + "/other-bucket/refuse/Patient.ndjson",
        "https://" + S3Mock.BUCKET + ".s3.amazonaws.com/refuse/Patient.ndjson",
        "s3://" + S3Mock.BUCKET + "/refuse/missing.ndjson",
        "s3://" + S3Mock.BUCKET + "/refuse/../refuse/Patient.ndjson",
        "s3://" + S3Mock.BUCKET + "/refuse/Patient.json",
        "s3://" + S3Mock.BUCKET,
        "s3://" + S3Mock.BUCKET + "/")) {
      HttpResponse<String> r = client.kickOff(ImportClient.request("IncrementalLoad", url, "Patient"));

      assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(url).contains("OperationOutcome").contains(url);
    }
    assertThat(server.get("Patient/s3-other").statusCode()).isEqualTo(404);
  }

  @Test
  void the_etag_of_an_input_must_be_the_objects() {
    String etag = put("etag/Patient.ndjson", ndjson(List.of("{\"resourceType\":\"Patient\",\"id\":\"s3-etag\"}")));
    String url = "s3://" + S3Mock.BUCKET + "/etag/Patient.ndjson";

    HttpResponse<String> stale = client.kickOff(withEtag(url, "\"0123456789abcdef0123456789abcdef\""));

    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(stale.body()).contains(url).contains("etag");
    assertThat(server.get("Patient/s3-etag").statusCode()).isEqualTo(404);
    for (String given : List.of(etag, etag.replace("\"", ""))) {
      JsonNode result = client.run(withEtag(url, given));
      assertThat(ImportClient.imported(result)).as(given).isEqualTo(1);
    }
    assertThat(total("Patient")).isPositive();
  }

  /**
   * {@code kill -9} while two S3 inputs are in their second batch (held by uncommitted rows of
   * one of their resources, as in {@code ImportDurabilityTest}), then a restart: the unchanged
   * input ends with every line exactly once; the one overwritten while the server was down is
   * not read in its new version (its checkpoint counts lines of the old one): one error, and
   * its first batch stays.
   */
  @Test
  void after_kill_9_a_restart_resumes_s3_inputs_exactly_once_and_never_reads_a_changed_object() throws Exception {
    int lines = 2500;
    List<String> kept = new ArrayList<>();
    List<String> changed = new ArrayList<>();
    for (int i = 1; i <= lines; i++) {
      kept.add("{\"resourceType\":\"Patient\",\"id\":\"s3-kill-" + i + "\",\"name\":[{\"family\":\"Kill" + i + "\"}]}");
      changed.add("{\"resourceType\":\"Device\",\"id\":\"s3-kill-" + i + "\"}");
    }
    put("kill/Patient.ndjson", ndjson(kept));
    put("kill/Device.ndjson", ndjson(changed));
    Path dir = Files.createTempDirectory("sluice-import-s3-kill");
    int port = ChildServer.freePort();
    List<String> jvm = List.of("-Daws.accessKeyId=sluice-test", "-Daws.secretAccessKey=sluice-test");
    // a lease longer than a batch takes on a busy machine (a part whose batch outlasts it is taken over), short
    // enough that the restart does not wait long for the killed process's leases to lapse
    String[] flags = {"--export-lease", "20", "--export-workers", "2", "--export-storage", "s3", "--s3-bucket",
        S3Mock.BUCKET, "--s3-region", "us-east-1", "--s3-endpoint", S3Mock.endpoint()};
    String status;
    try {
      try (ChildServer first = ChildServer.start(dir, port, jvm, Map.of(), flags)) {
        try (Connection lock = first.dataSource().getConnection();
            Connection watch = first.dataSource().getConnection()) {
          lock.setAutoCommit(false);
          for (String type : List.of("Patient", "Device")) {
            lock.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
                + " values ('" + type + "', 's3-kill-1500', 1, now(), false)");
          }
          HttpResponse<String> kick = RAW.send(HttpRequest.newBuilder(URI.create(first.base() + "/$import"))
              .header("Accept", "application/fhir+json").header("Prefer", "respond-async")
              .header("Content-Type", "application/fhir+json")
              .POST(HttpRequest.BodyPublishers.ofString(ImportClient.request("IncrementalLoad",
                  "s3://" + S3Mock.BUCKET + "/kill/Patient.ndjson", "Patient",
                  "s3://" + S3Mock.BUCKET + "/kill/Device.ndjson", "Device"))).build(),
              HttpResponse.BodyHandlers.ofString());
          assertThat(kick.statusCode()).as(kick.body()).isEqualTo(202);
          status = kick.headers().firstValue("Content-Location").orElseThrow();
          await(watch, "select count(*) from import_part where next_line >= 1001", 2);
          await(watch, "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
              + " and query like 'insert into resource (res_type%'", 2);
          first.kill();
          lock.rollback();
        }
      }
      put("kill/Device.ndjson", ndjson(changed.subList(0, 10)));
      try (ChildServer second = ChildServer.start(dir, port, jvm, Map.of(), flags)) {
        JsonNode result = null;
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (result == null) {
          HttpResponse<String> s = RAW.send(HttpRequest.newBuilder(URI.create(status))
              .header("Accept", "application/fhir+json").build(), HttpResponse.BodyHandlers.ofString());
          if (s.statusCode() == 200) {
            result = JSON.readTree(s.body());
          } else {
            assertThat(s.statusCode()).as(s.body()).isEqualTo(202);
            assertThat(System.nanoTime()).as("import finished in time").isLessThan(deadline);
            Thread.sleep(200);
          }
        }
        long patients = 0;
        long devices = 0;
        for (JsonNode o : result.get("output")) {
          if (o.get("type").asText().equals("Patient")) {
            patients += o.get("count").asLong();
          } else {
            devices += o.get("count").asLong();
          }
        }
        assertThat(patients).isEqualTo(lines);
        assertThat(devices).as("the first batch of the old version").isEqualTo(1000);
        assertThat(result.get("error")).hasSize(1);
        assertThat(result.get("error").get(0).get("count").asInt()).isEqualTo(1);
        assertThat(result.get("error").get(0).get("inputUrl").asText()).endsWith("/kill/Device.ndjson");
        try (Connection c = second.dataSource().getConnection(); ResultSet rs = c.createStatement().executeQuery(
            "select res_type, count(*), count(distinct pk), max(version) from resource_version"
                + " where res_id like 's3-kill-%' group by res_type order by res_type")) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo("Device");
          assertThat(rs.getLong(2)).isEqualTo(1000);
          assertThat(rs.next()).isTrue();
          assertThat(rs.getString(1)).isEqualTo("Patient");
          assertThat(rs.getLong(2)).isEqualTo(lines);
          assertThat(rs.getLong(3)).isEqualTo(lines);
          assertThat(rs.getInt(4)).isEqualTo(1);
        }
        String log = Files.readString(second.log());
        assertThat(log).contains("has changed since the import was started");
      }
    } finally {
      TestServer.deleteTree(dir);
    }
  }

  /** Waits until {@code sql} counts at least {@code n}. */
  private static void await(Connection c, String sql, long n) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (ResultSet rs = c.createStatement().executeQuery(sql)) {
        rs.next();
        if (rs.getLong(1) >= n) {
          return;
        }
      }
      assertThat(System.nanoTime()).as(sql + " reached " + n + " in time").isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}

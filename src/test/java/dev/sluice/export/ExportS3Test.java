package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.S3Config;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/**
 * Exports into a real S3-compatible server (S3Mock) over real HTTP: the files land under
 * {@code <prefix>/<container>/<job id>/}, encrypted, and the manifest's presigned URLs are
 * downloaded by a plain HTTP client without any credentials.
 */
@ExtendWith(S3Mock.class)
class ExportS3Test {
  private static final String PREFIX = "bulk/exports";
  private static TestServer server;
  private static ExportClient client;
  private static Map<String, List<String>> loaded;
  private static S3Client s3;
  /** Knows nothing of AWS: what a Bulk Data client downloads with. */
  private static final HttpClient PLAIN = HttpClient.newHttpClient();

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> new dev.sluice.cli.ExportConfig(
        e.storage(), null, e.workers(), e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(), e.leaseSeconds(),
        e.retentionSeconds(), true, e.storeRetries())
        .withS3(new S3Config(S3Mock.BUCKET, "/" + PREFIX + "/", "us-east-1", S3Mock.endpoint(), null,
            S3Config.DEFAULT_PART_BYTES))));
    client = new ExportClient(server);
    loaded = client.load(Fixtures.small(), List.of("Patient", "Encounter"));
    s3 = S3Client.builder().endpointOverride(URI.create(S3Mock.endpoint())).forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED).build();
  }

  @AfterAll
  static void stop() {
    server.close();
    s3.close();
  }

  private static Set<String> ids(List<String> lines) {
    Set<String> ids = new HashSet<>();
    lines.forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  /** The lines of a file downloaded with no header at all. */
  private static List<String> plainDownload(String url) throws Exception {
    HttpResponse<String> r = PLAIN.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url + ": " + r.body()).isEqualTo(200);
    return Arrays.stream(r.body().split("\n")).filter(l -> !l.isEmpty()).toList();
  }

  private static List<String> outputLines(JsonNode manifest, String type) throws Exception {
    List<String> lines = new java.util.ArrayList<>();
    for (JsonNode f : manifest.get("output")) {
      if (f.get("type").asText().equals(type)) {
        lines.addAll(plainDownload(f.get("url").asText()));
      }
    }
    return lines;
  }

  @Test
  void export_to_a_named_container_writes_exact_encrypted_objects_behind_presigned_urls() throws Exception {
    String status = client.start("$export?_type=Patient,Encounter&_container=sluice-s3-test");
    String job = status.substring(status.lastIndexOf('/') + 1);
    JsonNode m = ExportClient.read(client.await(status).body());
    assertThat(m.get("requiresAccessToken").asBoolean()).isFalse();
    for (JsonNode f : m.get("output")) {
      assertThat(f.get("url").asText())
          .startsWith(S3Mock.endpoint() + "/" + S3Mock.BUCKET + "/" + PREFIX + "/sluice-s3-test/" + job + "/")
          .contains(".ndjson?").contains("X-Amz-Signature=").contains("X-Amz-Expires=");
    }
    assertThat(m.get("output").size()).as("Encounter rolls over every 100").isGreaterThanOrEqualTo(4);
    for (String type : List.of("Patient", "Encounter")) {
      List<String> lines = outputLines(m, type);
      assertThat(lines).as(type + " lines").hasSize(loaded.get(type).size());
      assertThat(ids(lines)).as(type).isEqualTo(ids(loaded.get(type)));
    }
    // exact: each exported Patient is the resource the API serves
    for (String line : outputLines(m, "Patient")) {
      JsonNode exported = ExportClient.read(line);
      HttpResponse<String> read = client.get("Patient/" + exported.get("id").asText());
      assertThat(exported).isEqualTo(ExportClient.read(read.body()));
    }
    var head = s3.headObject(h -> h.bucket(S3Mock.BUCKET).key(PREFIX + "/sluice-s3-test/" + job + "/Patient-1.ndjson"));
    assertThat(head.serverSideEncryption()).isEqualTo(ServerSideEncryption.AES256);
    assertThat(head.contentType()).isEqualTo("application/fhir+ndjson");
  }

  @Test
  void without_container_the_key_segment_is_named_from_kick_off_time_and_job_id() throws Exception {
    String status = client.start("$export?_type=Patient");
    String job = status.substring(status.lastIndexOf('/') + 1);
    JsonNode m = ExportClient.read(client.await(status).body());
    String url = m.get("output").get(0).get("url").asText();
    assertThat(url).matches(".*/" + S3Mock.BUCKET + "/" + PREFIX + "/\\d{8}t\\d{6}-" + job + "/" + job
        + "/Patient-1\\.ndjson\\?.*");
    assertThat(plainDownload(url)).hasSize(loaded.get("Patient").size());
  }

  @Test
  void presigned_urls_are_sigv4_query_signatures_with_the_default_chains_credentials() throws Exception {
    JsonNode m = client.manifest("$export?_type=Patient&_container=sluice-s3-signature");
    String url = m.get("output").get(0).get("url").asText();
    assertThat(URI.create(url).getQuery()).contains("X-Amz-Credential=sluice-test/")
        .contains("X-Amz-SignedHeaders=host");
  }

  @Test
  void de_identified_export_reads_its_configuration_from_the_anonymization_prefix_with_its_etag() throws Exception {
    String key = PREFIX + "/" + ExportNames.ANONYMIZATION_CONTAINER + "/safe-harbor.json";
    String etag = s3.putObject(p -> p.bucket(S3Mock.BUCKET).key(key),
        RequestBody.fromBytes(DeidConfigFiles.safeHarbor("patient"))).eTag();

    HttpResponse<String> stale = client.kickOff("$export?_type=Patient&_container=sluice-s3-deid"
        + "&_anonymizationConfig=safe-harbor.json&_anonymizationConfigEtag=%22deadbeef%22");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(stale.body()).contains("OperationOutcome").contains("_anonymizationConfigEtag");
    HttpResponse<String> missing = client.kickOff("$export?_type=Patient&_container=sluice-s3-deid"
        + "&_anonymizationConfig=no-such.json");
    assertThat(missing.statusCode()).as(missing.body()).isEqualTo(400);
    assertThat(missing.body()).contains("no-such.json").contains("under the key prefix '" + PREFIX + "/anonymization/'");

    JsonNode m = client.manifest("$export?_type=Patient&_container=sluice-s3-deid"
        + "&_anonymizationConfig=safe-harbor.json&_anonymizationConfigEtag=" + etag.replace("\"", "%22"));
    assertThat(m.get("extension").get("anonymization").get("config").asText()).isEqualTo("safe-harbor.json");
    List<String> patients = outputLines(m, "Patient");
    assertThat(patients).hasSize(loaded.get("Patient").size());
    for (String source : loaded.get("Patient")) {
      JsonNode p = ExportClient.read(source);
      String family = p.get("name").get(0).get("family").asText();
      assertThat(patients).noneMatch(l -> l.contains(family) || l.contains(p.get("id").asText()));
    }
  }

  @Test
  void delete_after_completion_removes_the_objects() throws Exception {
    String status = client.start("$export?_type=Patient&_container=sluice-s3-delete");
    String job = status.substring(status.lastIndexOf('/') + 1);
    JsonNode m = ExportClient.read(client.await(status).body());
    String url = m.get("output").get(0).get("url").asText();
    assertThat(plainDownload(url)).isNotEmpty();
    assertThat(client.delete(status).statusCode()).isEqualTo(202);
    assertThat(client.fetch(url).statusCode()).isEqualTo(404);
    assertThat(s3.listObjectsV2(l -> l.bucket(S3Mock.BUCKET).prefix(PREFIX + "/sluice-s3-delete/" + job + "/"))
        .contents()).isEmpty();
  }
}

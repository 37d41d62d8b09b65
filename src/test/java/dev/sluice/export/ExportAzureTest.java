package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(Azurite.class)
class ExportAzureTest {
  private static TestServer server;
  private static ExportClient client;
  private static Map<String, List<String>> loaded;

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> new ExportConfig("azure",
        Azurite.connectionString(), e.workers(), e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(),
        e.leaseSeconds(), e.retentionSeconds(), true, e.storeRetries())));
    client = new ExportClient(server);
    loaded = client.load(Fixtures.small(), List.of("Patient", "Encounter"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Set<String> ids(List<String> lines) {
    Set<String> ids = new HashSet<>();
    lines.forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  @Test
  void export_to_a_named_container_creates_it_and_the_manifest_points_at_readable_blobs() {
    JsonNode m = client.manifest("$export?_type=Patient,Encounter&_container=sluice-azure-test");
    assertThat(m.get("requiresAccessToken").asBoolean()).isFalse();
    for (JsonNode f : m.get("output")) {
      assertThat(f.get("url").asText())
          .startsWith("http://127.0.0.1:" + Azurite.port() + "/devstoreaccount1/sluice-azure-test/")
          .contains(".ndjson?");
    }
    for (String type : List.of("Patient", "Encounter")) {
      assertThat(ids(client.lines(m, "output", type))).as(type).isEqualTo(ids(loaded.get(type)));
    }
    assertThat(m.get("output").size()).as("Encounter rolls over every 100").isGreaterThanOrEqualTo(4);
  }

  @Test
  void without_container_the_container_is_named_from_kick_off_time_and_job_id() {
    String status = client.start("$export?_type=Patient");
    String job = status.substring(status.lastIndexOf('/') + 1);
    JsonNode m = ExportClient.read(client.await(status).body());
    assertThat(m.get("output").get(0).get("url").asText())
        .matches(".*/devstoreaccount1/\\d{8}t\\d{6}-" + job + "/" + job + "/Patient-1\\.ndjson\\?.*");
  }

  @Test
  void de_identified_export_reads_its_configuration_from_the_anonymization_container_with_its_etag() {
    BlobClient blob = new BlobServiceClientBuilder().connectionString(Azurite.connectionString()).buildClient()
        .createBlobContainerIfNotExists(ExportNames.ANONYMIZATION_CONTAINER).getBlobClient("safe-harbor.json");
    blob.upload(BinaryData.fromBytes(DeidConfigFiles.safeHarbor("patient")), true);
    String etag = blob.getProperties().getETag();

    HttpResponse<String> stale = client.kickOff("$export?_type=Patient&_container=sluice-azure-deid"
        + "&_anonymizationConfig=safe-harbor.json&_anonymizationConfigEtag=%220x8DEADBEEF%22");
    assertThat(stale.statusCode()).as(stale.body()).isEqualTo(412);
    assertThat(stale.body()).contains("OperationOutcome").contains("_anonymizationConfigEtag");
    HttpResponse<String> missing = client.kickOff("$export?_type=Patient&_container=sluice-azure-deid"
        + "&_anonymizationConfig=no-such.json");
    assertThat(missing.statusCode()).as(missing.body()).isEqualTo(400);

    JsonNode m = client.manifest("$export?_type=Patient&_container=sluice-azure-deid"
        + "&_anonymizationConfig=safe-harbor.json&_anonymizationConfigEtag=" + etag.replace("\"", "%22"));
    assertThat(m.get("extension").get("anonymization").get("config").asText()).isEqualTo("safe-harbor.json");
    List<String> patients = client.lines(m, "output", "Patient");
    assertThat(patients).hasSize(loaded.get("Patient").size());
    for (String source : loaded.get("Patient")) {
      JsonNode p = ExportClient.read(source);
      String family = p.get("name").get(0).get("family").asText();
      assertThat(patients).noneMatch(l -> l.contains(family) || l.contains(p.get("id").asText()));
    }
  }

  @Test
  void delete_after_completion_removes_the_blobs() {
    String status = client.start("$export?_type=Patient&_container=sluice-azure-delete");
    JsonNode m = ExportClient.read(client.await(status).body());
    String url = m.get("output").get(0).get("url").asText();
    assertThat(client.fetch(url).statusCode()).isEqualTo(200);
    assertThat(client.delete(status).statusCode()).isEqualTo(202);
    assertThat(client.fetch(url).statusCode()).isEqualTo(404);
  }
}

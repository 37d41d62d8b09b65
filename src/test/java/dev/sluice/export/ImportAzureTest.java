package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.azure.core.util.BinaryData;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.ExportConfig;
import dev.sluice.imports.ImportClient;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code $import} of blobs in the server's Azure Blob account (Azurite); other URLs refused. */
@ExtendWith(Azurite.class)
class ImportAzureTest {
  private static TestServer server;
  private static ImportClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> new ExportConfig("azure",
        Azurite.connectionString(), e.workers(), e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(),
        e.leaseSeconds(), e.retentionSeconds(), true, e.storeRetries())));
    client = new ImportClient(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void a_blob_of_the_configured_account_is_imported_and_other_urls_are_refused() {
    List<String> lines = Fixtures.ndjson(Fixtures.small(), "Patient");
    BlobContainerClient container = new BlobServiceClientBuilder().connectionString(Azurite.connectionString())
        .buildClient().getBlobContainerClient("import-test");
    if (!container.exists()) {
      container.create();
    }
    container.getBlobClient("move/Patient.ndjson").upload(BinaryData.fromString(String.join("\n", lines) + "\n"), true);
    String account = "http://127.0.0.1:" + Azurite.port() + "/devstoreaccount1";

    JsonNode result = client.run(ImportClient.request("IncrementalLoad", account + "/import-test/move/Patient.ndjson",
        "Patient"));

    assertThat(ImportClient.imported(result)).isEqualTo(lines.size());
    assertThat(result.get("error")).isEmpty();
    JsonNode missing = client.run(ImportClient.request("IncrementalLoad", account + "/import-test/none.ndjson", "Patient"));
    assertThat(client.errors(missing)).hasSize(1);
    for (String url : List.of("http://127.0.0.1:" + Azurite.port() + "/otheraccount/import-test/move/Patient.ndjson",
        "https://example.blob.core.windows.net/c/Patient.ndjson", account + "/import-test/../x.ndjson",
        account + "/import-test")) {
      assertThat(client.kickOff(ImportClient.request("IncrementalLoad", url, "Patient")).statusCode()).as(url)
          .isEqualTo(400);
    }
  }
}

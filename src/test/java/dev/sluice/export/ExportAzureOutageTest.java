package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Azure Blob storage that goes away and comes back: a real Azurite stopped and started again
 * on the same port and data directory. An outage at kick-off or in the middle of the parts
 * ends with a complete, exact export once the store is back; an outage longer than the retries
 * fails the job with an OperationOutcome that says so in words.
 */
@ExtendWith(Azurite.class)
class ExportAzureOutageTest extends StoreOutageTests {
  @Override
  protected Function<Path, Config> config(int storeRetries) {
    return ExportFixture.config(e -> new ExportConfig("azure", Azurite.connectionString(), e.workers(),
        e.maxRunningJobs(), e.maxFileBytes(), 100, e.partResources(), e.leaseSeconds(), e.retentionSeconds(), true,
        storeRetries));
  }

  @Override
  protected void stopStore() throws Exception {
    Azurite.stop();
  }

  @Override
  protected void startStore() throws Exception {
    Azurite.start();
  }

  @Test
  void storage_down_longer_than_the_retries_fails_the_job_saying_the_store_was_unreachable() throws Exception {
    try (TestServer impatient = TestServer.start(ExportFixture.tempDir(), config(2))) {
      ExportClient other = new ExportClient(impatient);
      other.putAll(loaded.get("Patient").subList(0, 3));
      Azurite.stop();
      HttpResponse<String> r = other.await(other.start("$export?_type=Patient&_container=outage-too-long"));
      assertThat(r.statusCode()).isEqualTo(500);
      JsonNode issue = ExportClient.read(r.body()).get("issue").get(0);
      assertThat(issue.get("code").asText()).isEqualTo("no-store");
      assertThat(issue.get("details").get("coding").get(0).get("code").asText()).isEqualTo("SLUICE-1004");
      assertThat(issue.get("diagnostics").asText()).contains("The export store was unreachable")
          .contains("could not be reached");
      assertThat(r.body()).doesNotContain("Exception").doesNotContain("<?xml").doesNotContain("x-ms-");
    }
  }

  @Test
  void a_planning_that_fails_unexpectedly_fails_the_job_after_a_few_attempts() throws Exception {
    UUID id = UUID.randomUUID();
    try (Connection c = server.app().dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
        "insert into export_job (id, client, request_key, request_url, request, status, transaction_time, wait_xids,"
            + " container) values (?, 'test', ?, 'test', '{\"not\": a request', 'queued', now(), '', 'broken-plan')")) {
      ps.setObject(1, id);
      ps.setString(2, id.toString());
      ps.executeUpdate();
    }
    HttpResponse<String> r = client.await(server.base() + "/_operations/export/" + id);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(500);
    JsonNode issue = ExportClient.read(r.body()).get("issue").get(0);
    assertThat(issue.get("details").get("coding").get(0).get("code").asText()).isEqualTo("SLUICE-1005");
    assertThat(issue.get("diagnostics").asText()).contains("Planning the export failed 3 times");
  }
}

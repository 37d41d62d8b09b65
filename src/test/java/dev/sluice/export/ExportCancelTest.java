package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class ExportCancelTest {
  private final ExportClient client = ExportFixture.client();

  private Path exportsDir() {
    return client.server().dataDir().resolve("exports");
  }

  private long filesOf(String jobId) throws Exception {
    if (!Files.isDirectory(exportsDir())) {
      return 0;
    }
    try (Stream<Path> walk = Files.walk(exportsDir())) {
      return walk.filter(p -> p.toString().contains(jobId) && Files.isRegularFile(p)).count();
    }
  }

  private static long activeScans(Connection c) throws Exception {
    return ScanBlocker.activeScans(c);
  }

  @Test
  void cancel_stops_the_workers_within_seconds_removes_files_and_later_polls_get_404() throws Exception {
    try (Connection lock = ExportFixture.app().dataSource().getConnection();
        Connection watch = ExportFixture.app().dataSource().getConnection()) {
      String status = ScanBlocker.startBlocked(client, ExportFixture.app().dataSource(), lock, "$export?_type=Observation,Claim");
      String jobId = status.substring(status.lastIndexOf('/') + 1);
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (activeScans(watch) == 0) {
        assertThat(System.nanoTime()).as("parts never started").isLessThan(deadline);
        ExportClient.sleep(50);
      }
      HttpResponse<String> running = client.get(status);
      assertThat(running.statusCode()).isEqualTo(202);
      assertThat(running.headers().firstValue("X-Progress")).hasValueSatisfying(p -> assertThat(p).contains("parts"));

      HttpResponse<String> cancel = client.delete(status);
      assertThat(cancel.statusCode()).isEqualTo(202);
      assertThat(ExportClient.read(cancel.body()).get("issue").get(0).get("details").get("coding").get(0)
          .get("code").asText()).isEqualTo("SLUICE-1010");
      long cancelled = System.nanoTime();
      while (activeScans(watch) > 0) {
        assertThat((System.nanoTime() - cancelled) / 1_000_000).as("workers still scanning").isLessThan(5_000);
        ExportClient.sleep(50);
      }
      lock.rollback();
      HttpResponse<String> after = client.get(status);
      assertThat(after.statusCode()).isEqualTo(404);
      assertThat(after.body()).contains("OperationOutcome");
      ExportClient.sleep(1_000);
      assertThat(filesOf(jobId)).isZero();
    }
  }

  @Test
  void delete_after_completion_removes_the_files() throws Exception {
    String status = client.start("$export?_type=Encounter");
    JsonNode m = ExportClient.read(client.await(status).body());
    String jobId = status.substring(status.lastIndexOf('/') + 1);
    assertThat(filesOf(jobId)).isPositive();
    assertThat(client.delete(status).statusCode()).isEqualTo(202);
    assertThat(filesOf(jobId)).isZero();
    assertThat(client.get(status).statusCode()).isEqualTo(404);
    assertThat(client.fetch(m.get("output").get(0).get("url").asText()).statusCode()).isEqualTo(404);
    assertThat(client.delete(status).statusCode()).isEqualTo(404);
  }
}

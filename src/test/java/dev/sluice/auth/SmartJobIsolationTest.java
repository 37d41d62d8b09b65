package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.AuthConfig;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --auth smart}: an export job, its status, manifest and files belong to the client that
 * started it; another client learns nothing of it (404), and nobody downloads without a token.
 */
class SmartJobIsolationTest {
  private static TestServer server;
  private static TestClient a;
  private static TestClient b;
  private static String statusUrl;
  private static String fileUrl;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Files.createTempDirectory("sluice-smart-jobs"),
        dir -> TestServer.config(dir).with(AuthConfig.smart()));
    a = TestClient.rsa("client-a").registerInline(server, "system/*.cruds");
    b = TestClient.ec("client-b").registerInline(server, "system/*.cruds");
    String tokenA = "Bearer " + a.token(server, "system/*.cruds");
    assertThat(server.put("Patient/iso", "{\"resourceType\":\"Patient\",\"id\":\"iso\"}", "Authorization", tokenA)
        .statusCode()).isEqualTo(201);
    HttpResponse<String> kickOff = server.get("$export?_type=Patient",
        "Authorization", tokenA, "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    statusUrl = kickOff.headers().firstValue("Content-Location").orElseThrow();
    JsonNode manifest = TestClient.awaitManifest(server, statusUrl, tokenA);
    fileUrl = manifest.get("output").get(0).get("url").asText();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String tokenOf(TestClient c) {
    return "Bearer " + c.token(server, "system/*.cruds");
  }

  @Test
  void the_owner_sees_its_status_and_downloads_its_files_with_its_token() {
    String token = tokenOf(a);
    assertThat(server.get(statusUrl, "Authorization", token).statusCode()).isEqualTo(200);
    HttpResponse<String> file = server.get(fileUrl, "Authorization", token);
    assertThat(file.statusCode()).isEqualTo(200);
    assertThat(file.body()).contains("\"id\":\"iso\"");
  }

  @Test
  void another_client_cannot_see_download_or_cancel_the_job_and_gets_404() {
    String other = tokenOf(b);
    HttpResponse<String> status = server.get(statusUrl, "Authorization", other);
    assertThat(status.statusCode()).isEqualTo(404);
    assertThat(status.body()).doesNotContain("client-a");
    assertThat(server.get(fileUrl, "Authorization", other).statusCode()).isEqualTo(404);
    assertThat(server.delete(statusUrl, "Authorization", other).statusCode()).isEqualTo(404);
    // the job is still there for its owner
    assertThat(server.get(statusUrl, "Authorization", tokenOf(a)).statusCode()).isEqualTo(200);
  }

  @Test
  void the_list_of_jobs_shows_each_client_only_its_own() {
    String jobId = statusUrl.substring(statusUrl.lastIndexOf('/') + 1);
    HttpResponse<String> own = server.get("_operations/export", "Authorization", tokenOf(a));
    assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
    assertThat(own.body()).contains(jobId);
    HttpResponse<String> other = server.get("_operations/export", "Authorization", tokenOf(b));
    assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
    assertThat(other.body()).doesNotContain(jobId).doesNotContain("client-a");
    assertThat(server.get("_operations/export").statusCode()).isEqualTo(401);
  }

  @Test
  void a_download_or_status_without_a_token_is_401() {
    HttpResponse<String> file = server.get(fileUrl);
    assertThat(file.statusCode()).isEqualTo(401);
    assertThat(file.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(server.get(statusUrl).statusCode()).isEqualTo(401);
    assertThat(server.delete(statusUrl).statusCode()).isEqualTo(401);
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.ChildServer;
import dev.sluice.testing.Fixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Azure Blob without an account key (issue 15): Sluice in its own JVM reaches Azurite over
 * HTTPS with a Microsoft Entra ID token that {@code DefaultAzureCredential} gets through its
 * environment variant (a client secret in AZURE_* variables) from a local token endpoint, and
 * signs the manifest's URLs as user-delegation SAS that a plain HTTP client reads.
 */
class ExportAzureEntraIdTest {
  private static final TestCertificate CERT = TestCertificate.make();
  private static final String CLIENT_ID = "5b1e2c3d-aaaa-bbbb-cccc-0123456789ab";
  private static final String SECRET = "s3cr3t-for-the-test";

  @RegisterExtension
  static final Azurite AZURITE = Azurite.withOAuth(CERT.file(), CERT.password());

  private static EntraIdTokens tokens;
  private static ChildServer sluice;
  private static ExportClient client;
  private static Map<String, List<String>> loaded;

  @BeforeAll
  static void start() throws Exception {
    tokens = EntraIdTokens.start(CERT.context(), CLIENT_ID, SECRET);
    Path dir = Files.createTempDirectory("sluice-entra");
    Map<String, String> env = Map.of("AZURE_TENANT_ID", EntraIdTokens.TENANT, "AZURE_CLIENT_ID", CLIENT_ID,
        "AZURE_CLIENT_SECRET", SECRET, "AZURE_AUTHORITY_HOST", tokens.authorityHost(),
        // Azurite 3.35 knows user-delegation SAS up to its own API version; the SDK's newer one (2026-06-06)
        // signs fields it does not know. The SDK's own setting picks the older form.
        "AZURE_STORAGE_SAS_SERVICE_VERSION", "2025-11-05");
    sluice = ChildServer.start(dir, ChildServer.freePort(), CERT.trustOptions(), env, "--export-storage", "azure",
        "--azure-account-url", accountUrl(), "--export-max-file-resources", "100");
    HttpClient https = HttpClient.newBuilder().sslContext(CERT.context()).connectTimeout(Duration.ofSeconds(10)).build();
    client = new ExportClient(sluice.base(), https);
    loaded = client.load(Fixtures.small(), List.of("Patient", "Encounter"));
  }

  @AfterAll
  static void stop() throws Exception {
    if (sluice != null) {
      sluice.close();
    }
    if (tokens != null) {
      tokens.close();
    }
  }

  private static String accountUrl() {
    return "https://127.0.0.1:" + Azurite.port() + "/devstoreaccount1";
  }

  private static Set<String> ids(List<String> lines) {
    Set<String> ids = new HashSet<>();
    lines.forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  @Test
  void export_with_an_entra_id_token_gives_user_delegation_sas_urls_a_plain_client_reads() throws Exception {
    JsonNode m = client.manifest("$export?_type=Patient,Encounter&_container=sluice-entra");
    assertThat(m.get("requiresAccessToken").asBoolean()).isFalse();
    assertThat(m.get("output").size()).as("Encounter rolls over every 100").isGreaterThanOrEqualTo(4);
    for (JsonNode f : m.get("output")) {
      // skoid/sktid: signed with a user delegation key of the token's object and tenant, not an account key
      assertThat(f.get("url").asText()).startsWith(accountUrl() + "/sluice-entra/")
          .contains("skoid=" + EntraIdTokens.OBJECT_ID).contains("sktid=" + EntraIdTokens.TENANT).contains("sig=");
    }
    for (String type : List.of("Patient", "Encounter")) {
      assertThat(ids(client.lines(m, "output", type))).as(type).isEqualTo(ids(loaded.get(type)));
    }
    assertThat(tokens.issued()).as("tokens issued to Sluice").isPositive();
    assertThat(tokens.refused()).isZero();
  }

  @Test
  void without_its_sas_a_file_url_is_refused_so_the_signature_is_what_grants_the_read() throws Exception {
    JsonNode m = client.manifest("$export?_type=Patient&_container=sluice-entra-bare");
    String url = m.get("output").get(0).get("url").asText();
    HttpClient https = client.http();
    HttpResponse<String> signed = https.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(signed.statusCode()).isEqualTo(200);
    HttpResponse<String> bare = https.send(HttpRequest.newBuilder(URI.create(url.substring(0, url.indexOf('?')))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(bare.statusCode()).as(bare.body()).isIn(401, 403, 404);
    HttpResponse<String> forged = https.send(HttpRequest.newBuilder(URI.create(url.replaceAll("sig=[^&]+",
        "sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D"))).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(forged.statusCode()).as(forged.body()).isEqualTo(403);
  }

  @Test
  void an_exported_blob_is_imported_back_with_the_same_entra_id_credential() throws Exception {
    JsonNode m = client.manifest("$export?_type=Patient&_container=sluice-entra-import");
    JsonNode file = m.get("output").get(0);
    String blob = file.get("url").asText().substring(0, file.get("url").asText().indexOf('?'));

    HttpResponse<String> r = client.post("$import", dev.sluice.imports.ImportClient.request("IncrementalLoad", blob,
        "Patient"), "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    HttpResponse<String> done = client.await(r.headers().firstValue("Content-Location").orElseThrow());

    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode result = ExportClient.read(done.body());
    assertThat(dev.sluice.imports.ImportClient.imported(result)).isEqualTo(file.get("count").asLong());
    assertThat(result.get("error")).isEmpty();
  }
}

package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.nio.file.Files;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Absolute references to this server's own base are the local {@code Type/id}: searched as
 * that with the base of the request or of {@code --base-url}, and indexed as that under
 * {@code --base-url} (issue #3).
 */
class OwnBaseReferenceTest {
  private static final String PUBLIC_BASE = "https://fhir.example.org/fhir";
  private static final String FOREIGN_BASE = "https://other.example.org/fhir";
  private static TestServer configured;

  private final TestServer shared = TestServer.shared();
  private final String r = UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void startServerWithPublicBaseUrl() throws IOException {
    configured = TestServer.start(Files.createTempDirectory("sluice-own-base"), dir -> new Config("127.0.0.1", 0, dir,
        null, null, null, 8, PUBLIC_BASE, 8 * 1024 * 1024, ExportConfig.defaults()).validate());
  }

  @AfterAll
  static void stop() {
    configured.close();
  }

  private static void store(TestServer server, String type, String id, String body) {
    var response = server.put(type + "/" + id, "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\"" + body + "}");
    assertThat(response.statusCode()).as(response.body()).isIn(200, 201);
  }

  private static void observation(TestServer server, String id, String subject) {
    store(server, "Observation", id, ",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\""
        + subject + "\"}");
  }

  private static void patient(TestServer server, String id) {
    store(server, "Patient", id, ",\"identifier\":[{\"system\":\"urn:own-base\",\"value\":\"" + id + "\"}]");
  }

  @Test
  void search_by_the_request_base_url_finds_a_local_reference_and_a_foreign_base_does_not() {
    SearchClient client = new SearchClient(shared);
    patient(shared, "p-" + r);
    observation(shared, "o-" + r, "Patient/p-" + r);
    assertThat(client.ids("Observation?subject=" + shared.base() + "/Patient/p-" + r)).containsExactly("o-" + r);
    assertThat(client.ids("Observation?subject:Patient=" + shared.base() + "/Patient/p-" + r)).containsExactly("o-" + r);
    assertThat(client.ids("Observation?patient=" + shared.base() + "/Patient/p-" + r)).containsExactly("o-" + r);
    assertThat(client.ids("Observation?subject=" + FOREIGN_BASE + "/Patient/p-" + r)).isEmpty();
  }

  @Test
  void search_by_the_request_base_url_also_finds_the_same_url_stored_as_written() {
    SearchClient client = new SearchClient(shared);
    observation(shared, "o-" + r, shared.base() + "/Patient/p-" + r);
    assertThat(client.ids("Observation?subject=" + shared.base() + "/Patient/p-" + r)).containsExactly("o-" + r);
  }

  @Test
  void reference_under_the_configured_base_url_is_indexed_as_the_local_reference() {
    SearchClient client = new SearchClient(configured);
    patient(configured, "p-" + r);
    observation(configured, "own-" + r, PUBLIC_BASE + "/Patient/p-" + r);
    observation(configured, "foreign-" + r, FOREIGN_BASE + "/Patient/p-" + r);
    observation(configured, "local-" + r, "Patient/p-" + r);
    assertThat(client.ids("Observation?subject=Patient/p-" + r)).containsExactlyInAnyOrder("own-" + r, "local-" + r);
    assertThat(client.ids("Observation?patient=p-" + r)).containsExactlyInAnyOrder("own-" + r, "local-" + r);
    assertThat(client.ids("Observation?subject=" + PUBLIC_BASE + "/Patient/p-" + r))
        .containsExactlyInAnyOrder("own-" + r, "local-" + r);
    assertThat(client.ids("Observation?subject:Patient.identifier=urn:own-base%7Cp-" + r))
        .containsExactlyInAnyOrder("own-" + r, "local-" + r);
    assertThat(client.ids("Patient?_has:Observation:subject:status=final&_id=p-" + r)).containsExactly("p-" + r);
    assertThat(client.ids("Observation?subject=" + FOREIGN_BASE + "/Patient/p-" + r)).containsExactly("foreign-" + r);
  }

  @Test
  void reference_under_the_configured_base_url_is_included_by_include() {
    patient(configured, "p-" + r);
    observation(configured, "own-" + r, PUBLIC_BASE + "/Patient/p-" + r);
    String bundle = configured.get("Observation?_id=own-" + r + "&_include=Observation:subject").body();
    assertThat(SearchClient.ids(SearchClient.json(bundle), "include")).containsExactly("p-" + r);
  }
}

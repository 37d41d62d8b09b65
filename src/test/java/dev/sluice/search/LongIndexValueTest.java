package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Index values longer than a PostgreSQL B-tree entry allows (a few kB) are written, alone and
 * in batches beside other entries, and a search for one finds exactly its resource, not
 * another whose value shares its first kilobytes.
 */
class LongIndexValueTest {
  private final TestServer server = TestServer.shared();
  private final SearchClient client = new SearchClient(server);
  private final String run = UUID.randomUUID().toString();

  /**
   * Random text (PostgreSQL compresses an index entry, so repeated characters would fit), with
   * ASCII, two-byte and four-byte characters: the start kept of a long value must not split one.
   */
  private final String noise = noise(new java.util.Random(10), 4000);

  private String longValue(String tail) {
    return "urn:long:" + run + ":" + noise.substring(0, 800) + "é".repeat(100) + "\uD83D\uDE00".repeat(50)
        + noise.substring(800) + tail;
  }

  private static String noise(java.util.Random random, int length) {
    String letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(letters.charAt(random.nextInt(letters.length())));
    }
    return sb.toString();
  }

  @Test
  void a_token_of_several_kilobytes_is_stored_and_found_exactly() {
    String system = "http://example.org/" + noise.substring(1000, 3500) + run;
    String a = longValue("A");
    String b = longValue("B");
    String idA = "long-a-" + run;
    String idB = "long-b-" + run;
    client.put(observation(idA, system, a, "http://other.example/fhir/Patient/" + noise + "A"),
        observation(idB, system, b, "http://other.example/fhir/Patient/" + noise + "B"));
    assertThat(search("Observation", "code", system + "|" + a)).containsExactly(idA);
    assertThat(search("Observation", "code", system + "|" + b)).containsExactly(idB);
    assertThat(search("Observation", "code", a)).containsExactly(idA);
    assertThat(search("Observation", "code", system + "|" + longValue(""))).isEmpty();
    assertThat(search("Observation", "subject", "http://other.example/fhir/Patient/" + noise + "B"))
        .containsExactly(idB);
  }

  @Test
  void a_uri_of_several_kilobytes_is_stored_and_found_exactly() {
    String id = "long-vs-" + run;
    String other = "long-vs2-" + run;
    client.put("{\"resourceType\":\"ValueSet\",\"id\":\"" + id + "\",\"status\":\"active\",\"url\":\""
            + longValue("1") + "\"}",
        "{\"resourceType\":\"ValueSet\",\"id\":\"" + other + "\",\"status\":\"active\",\"url\":\""
            + longValue("2") + "\"}");
    assertThat(search("ValueSet", "url", longValue("1"))).containsExactly(id);
    assertThat(search("ValueSet", "url:below", "urn:long:" + run)).containsExactlyInAnyOrder(id, other);
  }

  @Test
  void a_long_value_in_one_entry_of_a_batch_does_not_fail_the_others() {
    String patient = "long-p-" + run;
    String observation = "long-o-" + run;
    HttpResponse<String> r = server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + entry("Patient", patient, "{\"resourceType\":\"Patient\",\"id\":\"" + patient + "\"}") + ","
        + entry("Observation", observation, observation(observation, "http://example.org", longValue("x"),
            "Patient/" + patient))
        + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    for (JsonNode e : SearchClient.json(r.body()).get("entry")) {
      assertThat(e.path("response").path("status").asText()).as(r.body()).isEqualTo("201 Created");
    }
    assertThat(search("Observation", "code", "http://example.org|" + longValue("x"))).containsExactly(observation);
  }

  private static String entry(String type, String id, String resource) {
    return "{\"resource\":" + resource + ",\"request\":{\"method\":\"PUT\",\"url\":\"" + type + "/" + id + "\"}}";
  }

  private static String observation(String id, String system, String code, String subject) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\",\"code\":{\"coding\":[{"
        + "\"system\":\"" + system + "\",\"code\":\"" + code + "\"}]},\"subject\":{\"reference\":\"" + subject + "\"}}";
  }

  /** The ids a search finds, sent as a form (the values are longer than a URL may be). */
  private List<String> search(String type, String name, String value) {
    HttpResponse<String> r = server.post(type + "/_search", name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8),
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    for (JsonNode e : SearchClient.json(r.body()).path("entry")) {
      ids.add(e.path("resource").path("id").asText());
    }
    return ids;
  }
}

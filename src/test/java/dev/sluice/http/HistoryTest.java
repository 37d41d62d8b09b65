package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.TestServer;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class HistoryTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestServer server = TestServer.shared();

  private static JsonNode json(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (Exception e) {
      throw new IllegalStateException(r.body(), e);
    }
  }

  private JsonNode put(String type, String id, String field) {
    HttpResponse<String> r = server.put(type + "/" + id,
        "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\",\"status\":\"" + field + "\",\"code\":{\"text\":\"x\"}}");
    assertThat(r.statusCode()).isBetween(200, 201);
    return json(r);
  }

  /** Follows next links from {@code first}; returns "Type/id/_history/v" of every entry, in order. */
  private List<String> allPages(String first) {
    List<String> seen = new ArrayList<>();
    String url = first;
    int pages = 0;
    while (url != null) {
      JsonNode page = json(server.get(url));
      pages++;
      for (JsonNode e : page.path("entry")) {
        String full = e.path("fullUrl").asText();
        seen.add(full.substring(full.indexOf("/fhir/") + 6) + "/_history/" + e.path("response").path("etag").asText()
            .replaceAll("\\D", ""));
      }
      url = null;
      for (JsonNode link : page.path("link")) {
        if (link.path("relation").asText().equals("next")) {
          url = link.path("url").asText();
        }
      }
      assertThat(pages).isLessThan(100);
    }
    return seen;
  }

  @Test
  void vread_returns_each_version_and_404_for_an_unknown_one() {
    String id = UUID.randomUUID().toString();
    put("Observation", id, "preliminary");
    put("Observation", id, "final");
    assertThat(server.get("Observation/" + id + "/_history/1").body()).contains("\"status\":\"preliminary\"")
        .contains("\"versionId\":\"1\"");
    HttpResponse<String> v2 = server.get("Observation/" + id + "/_history/2");
    assertThat(v2.body()).contains("\"status\":\"final\"");
    assertThat(v2.headers().firstValue("ETag")).hasValue("W/\"2\"");
    assertThat(server.get("Observation/" + id + "/_history/3").statusCode()).isEqualTo(404);
  }

  @Test
  void instance_history_pages_newest_first_with_next_links() {
    String id = UUID.randomUUID().toString();
    for (String s : List.of("registered", "preliminary", "final", "amended", "corrected")) {
      put("Observation", id, s);
    }
    List<String> versions = allPages("Observation/" + id + "/_history?_count=2");
    assertThat(versions).containsExactly("Observation/" + id + "/_history/5", "Observation/" + id + "/_history/4",
        "Observation/" + id + "/_history/3", "Observation/" + id + "/_history/2", "Observation/" + id + "/_history/1");
    JsonNode first = json(server.get("Observation/" + id + "/_history?_count=2"));
    assertThat(first.path("type").asText()).isEqualTo("history");
    assertThat(first.path("entry").get(0).path("request").path("method").asText()).isEqualTo("PUT");
  }

  @Test
  void type_history_pages_through_every_version_of_the_type_once() {
    String a = UUID.randomUUID().toString();
    String b = UUID.randomUUID().toString();
    String since = put("Observation", a, "preliminary").path("meta").path("lastUpdated").asText();
    put("Observation", b, "preliminary");
    put("Observation", a, "final");
    List<String> seen = allPages("Observation/_history?_count=1&_since=" + URLEncoder.encode(since, StandardCharsets.UTF_8));
    assertThat(seen).doesNotHaveDuplicates()
        .contains("Observation/" + a + "/_history/1", "Observation/" + b + "/_history/1", "Observation/" + a + "/_history/2");
    assertThat(seen.indexOf("Observation/" + a + "/_history/2")).isLessThan(seen.indexOf("Observation/" + a + "/_history/1"));
  }

  @Test
  void system_history_since_leaves_out_older_versions() throws InterruptedException {
    String old = UUID.randomUUID().toString();
    put("Observation", old, "preliminary");
    Thread.sleep(5);
    String fresh = UUID.randomUUID().toString();
    String since = put("Observation", fresh, "final").path("meta").path("lastUpdated").asText();
    List<String> seen = allPages("_history?_count=3&_since=" + URLEncoder.encode(since, StandardCharsets.UTF_8));
    assertThat(seen).contains("Observation/" + fresh + "/_history/1").doesNotContain("Observation/" + old + "/_history/1")
        .doesNotHaveDuplicates();
  }

  @Test
  void since_that_is_not_an_instant_answers_400_naming_it() {
    HttpResponse<String> r = server.get("_history?_since=yesterday");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("_since");
  }
}

package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * An update whose content equals the current version's (versionId and lastUpdated aside)
 * stores no version and answers with the current one, as HAPI does, on every write path.
 */
class UnchangedUpdateTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestServer server = TestServer.shared();

  private static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (Exception e) {
      throw new IllegalStateException(body, e);
    }
  }

  private static String flag(String id, String status) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"status\":\"" + status + "\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/unchanged\"}}";
  }

  private int versions(String type, String id) {
    JsonNode history = json(server.get(type + "/" + id + "/_history").body());
    return history.path("entry").size();
  }

  private JsonNode batch(String type, String... entries) {
    HttpResponse<String> r = server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
        + String.join(",", entries) + "]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return json(r.body());
  }

  private static String putEntry(String id, String resource, String... ifMatch) {
    return "{\"resource\":" + resource + ",\"request\":{\"method\":\"PUT\",\"url\":\"Flag/" + id + "\""
        + (ifMatch.length == 0 ? "" : ",\"ifMatch\":\"" + ifMatch[0].replace("\"", "\\\"") + "\"") + "}}";
  }

  @Test
  void a_put_of_the_same_content_keeps_the_version_and_answers_200_with_it() {
    String id = "same-" + UUID.randomUUID();
    HttpResponse<String> first = server.put("Flag/" + id, flag(id, "active"));
    assertThat(first.statusCode()).isEqualTo(201);
    JsonNode stored = json(first.body());
    // the same content with other whitespace and another versionId and lastUpdated of the client
    String again = flag(id, "active").replace("\"status\"", " \"status\" ")
        .replace("{\"resourceType\"", "{\"meta\":{\"versionId\":\"7\",\"lastUpdated\":\"2001-01-01T00:00:00Z\"},"
            + "\"resourceType\"");
    HttpResponse<String> second = server.put("Flag/" + id, again);
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    assertThat(second.headers().firstValue("ETag")).isEqualTo(first.headers().firstValue("ETag"));
    assertThat(second.headers().firstValue("Last-Modified")).isEqualTo(first.headers().firstValue("Last-Modified"));
    assertThat(json(second.body())).isEqualTo(stored);
    assertThat(second.body()).isEqualTo(server.get("Flag/" + id).body());
    assertThat(versions("Flag", id)).isEqualTo(1);

    HttpResponse<String> changed = server.put("Flag/" + id, flag(id, "inactive"));
    assertThat(changed.statusCode()).isEqualTo(200);
    assertThat(json(changed.body()).at("/meta/versionId").asText()).isEqualTo("2");
    assertThat(versions("Flag", id)).isEqualTo(2);
    // back to the first content: that is a change from version 2
    assertThat(json(server.put("Flag/" + id, flag(id, "active")).body()).at("/meta/versionId").asText()).isEqualTo("3");
  }

  @Test
  void a_put_after_a_delete_recreates_even_with_the_content_before_it() {
    String id = "same-deleted-" + UUID.randomUUID();
    server.put("Flag/" + id, flag(id, "active"));
    server.delete("Flag/" + id);
    HttpResponse<String> back = server.put("Flag/" + id, flag(id, "active"));
    assertThat(json(back.body()).at("/meta/versionId").asText()).isEqualTo("3");
    assertThat(server.get("Flag/" + id).statusCode()).isEqualTo(200);
  }

  @Test
  void if_match_and_conditional_updates_of_the_same_content_keep_the_version() {
    String id = "same-match-" + UUID.randomUUID();
    server.put("Flag/" + id, flag(id, "active"));
    HttpResponse<String> matched = server.put("Flag/" + id, flag(id, "active"), "If-Match", "W/\"1\"");
    assertThat(matched.statusCode()).as(matched.body()).isEqualTo(200);
    assertThat(matched.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(server.put("Flag/" + id, flag(id, "active"), "If-Match", "W/\"2\"").statusCode()).isEqualTo(412);
    HttpResponse<String> conditional = server.put("Flag?_id=" + id, flag(id, "active"));
    assertThat(conditional.statusCode()).as(conditional.body()).isEqualTo(200);
    assertThat(conditional.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(versions("Flag", id)).isEqualTo(1);
  }

  @Test
  void a_bulk_batch_of_unchanged_and_changed_resources_versions_only_the_changed() {
    String same = "same-bulk-" + UUID.randomUUID();
    String other = "changed-bulk-" + UUID.randomUUID();
    JsonNode first = batch("batch", putEntry(same, flag(same, "active")), putEntry(other, flag(other, "active")));
    JsonNode second = batch("batch", putEntry(same, flag(same, "active")), putEntry(other, flag(other, "inactive")));
    JsonNode kept = second.at("/entry/0/response");
    assertThat(kept.path("status").asText()).startsWith("200");
    assertThat(kept.path("etag").asText()).isEqualTo("W/\"1\"");
    assertThat(kept.path("lastModified")).isEqualTo(first.at("/entry/0/response/lastModified"));
    assertThat(second.at("/entry/0/resource")).isEqualTo(first.at("/entry/0/resource"));
    assertThat(second.at("/entry/1/response/etag").asText()).isEqualTo("W/\"2\"");
    assertThat(versions("Flag", same)).isEqualTo(1);
    assertThat(versions("Flag", other)).isEqualTo(2);
  }

  @Test
  void entry_by_entry_batches_and_transactions_keep_the_version_of_unchanged_entries() {
    String a = "same-entry-" + UUID.randomUUID();
    String b = "same-tx-" + UUID.randomUUID();
    server.put("Flag/" + a, flag(a, "active"));
    server.put("Flag/" + b, flag(b, "active"));
    // an If-Match sends the batch entry by entry
    JsonNode byEntry = batch("batch", putEntry(a, flag(a, "active"), "W/\"1\""), putEntry(b, flag(b, "active")));
    assertThat(byEntry.at("/entry/0/response/etag").asText()).isEqualTo("W/\"1\"");
    assertThat(byEntry.at("/entry/1/response/etag").asText()).isEqualTo("W/\"1\"");
    // a urn:uuid reference is rewritten, so the transaction's resource is encoded from the model
    String tx = "same-urn-" + UUID.randomUUID();
    String withUrn = "{\"resourceType\":\"Flag\",\"id\":\"" + tx + "\",\"status\":\"active\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"urn:uuid:4d1c3a9e-0000-4000-8000-000000000001\"}}";
    String patient = "{\"fullUrl\":\"urn:uuid:4d1c3a9e-0000-4000-8000-000000000001\",\"resource\":{\"resourceType\":"
        + "\"Patient\",\"id\":\"" + tx + "\"},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + tx + "\"}}";
    JsonNode once = batch("transaction", putEntry(tx, withUrn), patient);
    JsonNode twice = batch("transaction", putEntry(tx, withUrn), patient);
    assertThat(twice.at("/entry/0/response/etag")).isEqualTo(once.at("/entry/0/response/etag"));
    assertThat(twice.at("/entry/1/response/etag").asText()).isEqualTo("W/\"1\"");
    assertThat(versions("Flag", a)).isEqualTo(1);
    assertThat(versions("Flag", b)).isEqualTo(1);
    assertThat(versions("Flag", tx)).isEqualTo(1);
    assertThat(versions("Patient", tx)).isEqualTo(1);
  }
}

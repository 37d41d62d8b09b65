package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/** Search requests for tests: the ids a search matches, its Bundle, its error. */
final class SearchClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final TestServer server;

  SearchClient(TestServer server) {
    this.server = server;
  }

  static JsonNode json(String body) {
    try {
      return JSON.readTree(body);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** PUTs resources (JSON strings with resourceType and id) in one batch Bundle and checks each succeeded. */
  void put(String... resources) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (int i = 0; i < resources.length; i++) {
      JsonNode r = json(resources[i]);
      b.append(i == 0 ? "" : ",").append("{\"resource\":").append(resources[i])
          .append(",\"request\":{\"method\":\"PUT\",\"url\":\"").append(r.get("resourceType").asText()).append('/')
          .append(r.get("id").asText()).append("\"}}");
    }
    b.append("]}");
    HttpResponse<String> res = server.post("", b.toString());
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    for (JsonNode e : json(res.body()).get("entry")) {
      assertThat(e.get("response").get("status").asText()).as(res.body()).startsWith("20");
    }
  }

  /** Percent-encodes what URI.create refuses ({@code |}, brackets, spaces, non-ASCII); leaves existing escapes. */
  static String encode(String url) {
    StringBuilder sb = new StringBuilder();
    for (byte b : url.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if (c > 0x20 && c < 0x7f && "|[]{}\"<>^`".indexOf(c) < 0) {
        sb.append((char) c);
      } else {
        sb.append('%').append(String.format("%02X", c));
      }
    }
    return sb.toString();
  }

  JsonNode bundle(String query, String... headers) {
    HttpResponse<String> res = server.get(encode(query), headers);
    assertThat(res.statusCode()).as(query + " -> " + res.body()).isEqualTo(200);
    return json(res.body());
  }

  /** The ids of the matches (search.mode = match), in Bundle order, following next links. */
  List<String> ids(String query) {
    List<String> ids = new ArrayList<>();
    JsonNode b = bundle(query);
    while (true) {
      ids.addAll(ids(b, "match"));
      String next = link(b, "next");
      if (next == null) {
        return ids;
      }
      b = bundle(next);
    }
  }

  static List<String> ids(JsonNode bundle, String mode) {
    List<String> ids = new ArrayList<>();
    for (JsonNode e : bundle.path("entry")) {
      if (mode.equals(e.path("search").path("mode").asText())) {
        ids.add(e.get("resource").get("resourceType").asText().equals("OperationOutcome") ? "OperationOutcome"
            : e.get("resource").get("id").asText());
      }
    }
    return ids;
  }

  static String link(JsonNode bundle, String relation) {
    for (JsonNode l : bundle.path("link")) {
      if (relation.equals(l.get("relation").asText())) {
        return l.get("url").asText();
      }
    }
    return null;
  }

  /** The OperationOutcome of a failed search, after checking its status. */
  JsonNode error(String query, int status) {
    HttpResponse<String> res = server.get(encode(query));
    assertThat(res.statusCode()).as(query + " -> " + res.body()).isEqualTo(status);
    JsonNode oo = json(res.body());
    assertThat(oo.get("resourceType").asText()).isEqualTo("OperationOutcome");
    return oo;
  }
}

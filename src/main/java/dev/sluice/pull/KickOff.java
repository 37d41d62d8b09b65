package dev.sluice.pull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The kick-off request of a Bulk Data export: its level, GET with a query string or POST with
 * a Parameters body, and its parameters in the order given (repeats kept).
 *
 * @param lenient asks the server to ignore parameters it does not know ({@code Prefer:
 *     handling=lenient}) instead of refusing them
 */
public record KickOff(Level level, boolean post, List<Param> params, boolean lenient) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One kick-off parameter, as the Bulk Data guide names it ({@code _type}, {@code _since}, ...). */
  public record Param(String name, String value) {}

  public KickOff {
    params = List.copyOf(params);
  }

  HttpRequest.Builder request(URI base) {
    String root = base.toString().replaceAll("/+$", "") + "/" + level.path();
    HttpRequest.Builder request;
    if (post) {
      request = HttpRequest.newBuilder(URI.create(root))
          .header("Content-Type", "application/fhir+json")
          .POST(HttpRequest.BodyPublishers.ofString(parameters()));
    } else {
      String query = params.stream()
          .map(p -> encode(p.name()) + "=" + encode(p.value()))
          .collect(Collectors.joining("&"));
      request = HttpRequest.newBuilder(URI.create(query.isEmpty() ? root : root + "?" + query)).GET();
    }
    return request.header("Accept", "application/fhir+json")
        .header("Prefer", lenient ? "respond-async, handling=lenient" : "respond-async");
  }

  /** The POST body: each parameter with the value type the Bulk Data guide gives it. */
  String parameters() {
    ObjectNode body = JSON.createObjectNode().put("resourceType", "Parameters");
    ArrayNode list = body.putArray("parameter");
    for (Param p : params) {
      ObjectNode parameter = list.addObject().put("name", p.name());
      switch (p.name()) {
        case "_since", "_until" -> parameter.put("valueInstant", p.value());
        case "includeAssociatedData" -> parameter.put("valueCode", p.value());
        case "patient" -> parameter.putObject("valueReference").put("reference", p.value());
        default -> parameter.put("valueString", p.value());
      }
    }
    return body.toString();
  }

  private static String encode(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Kicks off {@code $import} over HTTP and waits for it, as a client does. */
public final class ImportClient {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String DELETED_STATE = "http://azurehealthcareapis.com/data-extensions/deleted-state";

  private final TestServer server;

  public ImportClient(TestServer server) {
    this.server = server;
  }

  /** Writes lines into the server's import folder; returns the relative url. */
  Path write(String name, List<String> lines) {
    try {
      Path file = server.dataDir().resolve("imports").resolve(name);
      Files.createDirectories(file.getParent());
      Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
      return file;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Parameters body: mode, then inputs as url, type (type may be null). */
  public static String request(String mode, String... urlsAndTypes) {
    ObjectNode p = JSON.createObjectNode();
    p.put("resourceType", "Parameters");
    ArrayNode params = p.putArray("parameter");
    params.addObject().put("name", "inputFormat").put("valueString", "application/fhir+ndjson");
    params.addObject().put("name", "mode").put("valueString", mode);
    for (int i = 0; i < urlsAndTypes.length; i += 2) {
      ObjectNode input = params.addObject().put("name", "input");
      ArrayNode parts = input.putArray("part");
      if (urlsAndTypes[i + 1] != null) {
        parts.addObject().put("name", "type").put("valueString", urlsAndTypes[i + 1]);
      }
      parts.addObject().put("name", "url").put("valueUri", urlsAndTypes[i]);
    }
    return p.toString();
  }

  public HttpResponse<String> kickOff(String body) {
    return server.post("$import", body, "Accept", "application/fhir+json", "Prefer", "respond-async");
  }

  /** Kicks off, which must be accepted; the job's status URL. */
  public String start(String body) {
    HttpResponse<String> r = kickOff(body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return r.headers().firstValue("Content-Location").orElseThrow();
  }

  /** The job id at the end of a status URL. */
  static String jobId(String status) {
    return status.substring(status.lastIndexOf('/') + 1);
  }

  /** Kicks off and waits for the job; the completed status's JSON. */
  public JsonNode run(String body) {
    return await(start(body));
  }

  JsonNode await(String status) {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      HttpResponse<String> s = server.get(status);
      if (s.statusCode() == 200) {
        return read(s.body());
      }
      assertThat(s.statusCode()).as(s.body()).isEqualTo(202);
      assertThat(s.headers().firstValue("X-Progress")).isPresent();
      if (System.nanoTime() > deadline) {
        throw new AssertionError("import did not finish: " + s.headers().map());
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Imported resources in the status, over all outputs. */
  public static long imported(JsonNode result) {
    long n = 0;
    for (JsonNode o : result.get("output")) {
      n += o.get("count").asLong();
    }
    return n;
  }

  /** The lines of all error files in the status. */
  public List<JsonNode> errors(JsonNode result) {
    List<JsonNode> lines = new java.util.ArrayList<>();
    for (JsonNode e : result.get("error")) {
      HttpResponse<String> r = server.get(e.get("url").asText());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      r.body().lines().filter(l -> !l.isBlank()).forEach(l -> lines.add(read(l)));
    }
    return lines;
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Drives exports over HTTP the way a Bulk Data client does, and loads test data. */
final class ExportClient {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String[] ASYNC = {"Accept", "application/fhir+json", "Prefer", "respond-async"};
  static final List<String> SMALL_TYPES = List.of("CarePlan", "Claim", "Condition", "DiagnosticReport", "Encounter",
      "ExplanationOfBenefit", "Goal", "ImagingStudy", "Immunization", "MedicationRequest", "Observation", "Organization",
      "Patient", "Practitioner", "Procedure");
  /** Batch size when loading: entries per batch Bundle. */
  private static final int LOAD_BATCH = 250;

  private final TestServer server;
  private final String base;
  private final HttpClient http;

  ExportClient(TestServer server) {
    this.server = server;
    this.base = server.base();
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  }

  /** A client of a server in another process. */
  ExportClient(String base) {
    this(base, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build());
  }

  /** A client of a server in another process that fetches files with {@code http} (one that trusts a test CA). */
  ExportClient(String base, HttpClient http) {
    this.server = null;
    this.base = base;
    this.http = http;
  }

  /** The in-process server (null for a server in another process). */
  TestServer server() {
    return server;
  }

  String base() {
    return base;
  }

  HttpClient http() {
    return http;
  }

  HttpResponse<String> get(String path, String... headers) {
    return send("GET", path, null, headers);
  }

  HttpResponse<String> delete(String path, String... headers) {
    return send("DELETE", path, null, headers);
  }

  HttpResponse<String> put(String path, String body, String... headers) {
    return send("PUT", path, body, json(headers));
  }

  HttpResponse<String> post(String path, String body, String... headers) {
    return send("POST", path, body, json(headers));
  }

  private static String[] json(String[] headers) {
    String[] h = Arrays.copyOf(headers, headers.length + 2);
    h[headers.length] = "Content-Type";
    h[headers.length + 1] = "application/fhir+json";
    return h;
  }

  private HttpResponse<String> send(String method, String path, String body, String... headers) {
    String url = path.startsWith("http") ? path : base + (path.isEmpty() ? "" : "/" + path);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return execute(b);
  }

  /** Loads a population through batch Bundles of PUT entries; returns the lines by type. */
  Map<String, List<String>> load(Path dir, List<String> types) {
    Map<String, List<String>> loaded = new LinkedHashMap<>();
    for (String type : types) {
      List<String> lines = Fixtures.ndjson(dir, type);
      loaded.put(type, lines);
      for (int i = 0; i < lines.size(); i += LOAD_BATCH) {
        putAll(lines.subList(i, Math.min(lines.size(), i + LOAD_BATCH)));
      }
    }
    return loaded;
  }

  void putAll(List<String> resources) {
    StringBuilder b = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (int i = 0; i < resources.size(); i++) {
      JsonNode r = read(resources.get(i));
      b.append(i == 0 ? "" : ",").append("{\"resource\":").append(resources.get(i))
          .append(",\"request\":{\"method\":\"PUT\",\"url\":\"").append(r.get("resourceType").asText()).append('/')
          .append(r.get("id").asText()).append("\"}}");
    }
    b.append("]}");
    HttpResponse<String> r = post("", b.toString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).doesNotContain("\"status\":\"4");
  }

  HttpResponse<String> kickOff(String path, String... headers) {
    return get(path, headers.length == 0 ? ASYNC : headers);
  }

  /** Kicks off and returns the status URL. */
  String start(String path) {
    HttpResponse<String> r = kickOff(path);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    return r.headers().firstValue("Content-Location").orElseThrow();
  }

  /** Polls until the job leaves 202; returns the final response. */
  HttpResponse<String> await(String statusUrl) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      HttpResponse<String> r = get(statusUrl);
      if (r.statusCode() != 202) {
        return r;
      }
      assertThat(System.nanoTime()).as("export still running after 60 s").isLessThan(deadline);
      sleep(50);
    }
  }

  JsonNode manifest(String path) {
    HttpResponse<String> r = await(start(path));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return read(r.body());
  }

  /** The lines of every output file of a type, in file order. */
  List<String> lines(JsonNode manifest, String array, String type) {
    List<String> lines = new ArrayList<>();
    for (JsonNode f : manifest.get(array)) {
      if (f.get("type").asText().equals(type)) {
        lines.addAll(download(f.get("url").asText()));
      }
    }
    return lines;
  }

  List<String> download(String url) {
    HttpResponse<String> r = fetch(url);
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return Arrays.stream(r.body().split("\n")).filter(l -> !l.isEmpty()).toList();
  }

  HttpResponse<String> fetch(String url, String... headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return execute(b);
  }

  private HttpResponse<String> execute(HttpRequest.Builder b) {
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Count per type from the manifest's output entries. */
  static Map<String, Long> counts(JsonNode manifest) {
    Map<String, Long> counts = new LinkedHashMap<>();
    for (JsonNode f : manifest.get("output")) {
      counts.merge(f.get("type").asText(), f.get("count").asLong(), Long::sum);
    }
    return counts;
  }

  static JsonNode read(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String id(String line) {
    return read(line).get("id").asText();
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

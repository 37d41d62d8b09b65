package dev.sluice.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.client.Credentials;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Applies an export's {@code deleted} file to a FHIR server: each line is a Bundle of
 * {@code DELETE Type/id} entries, sent on as a {@code batch} of those DELETEs only (an entry of
 * another method, or a URL that is not {@code Type/id}, is refused, so a file from elsewhere can
 * delete but never write). A resource the server does not have (404, 410) counts as deleted:
 * the replay is idempotent, a second run changes nothing.
 */
public final class DeletionReplay {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<Integer> BUSY = Set.of(429, 502, 503, 504);
  private static final int ATTEMPTS = 4;

  /** What one file did: resources deleted (or already absent), and the entries that failed, with why. */
  public record Result(long deleted, List<String> failures) {
    public boolean whole() {
      return failures.isEmpty();
    }
  }

  private final URI base;
  private final HttpClient http;
  private final Credentials credentials;

  public DeletionReplay(URI base, HttpClient http, Credentials credentials) {
    this.base = URI.create(base.toString().replaceAll("/+$", ""));
    this.http = http;
    this.credentials = credentials;
  }

  public Result apply(Path file) throws InterruptedException {
    long deleted = 0;
    List<String> failures = new ArrayList<>();
    try (NdjsonReader reader = new NdjsonReader(file, new AtomicLong())) {
      NdjsonReader.RawLine raw;
      while ((raw = reader.next()) != null) {
        String where = file.getFileName() + ":" + raw.number();
        List<String> urls;
        try {
          urls = deletions(raw.bytes());
        } catch (IllegalArgumentException e) {
          failures.add(where + ": " + e.getMessage());
          continue;
        }
        if (urls.isEmpty()) {
          continue;
        }
        try {
          List<BatchAnswer.EntryResult> results = send(urls);
          for (int i = 0; i < urls.size(); i++) {
            BatchAnswer.EntryResult r = results.get(i);
            if (r.ok() || r.status().startsWith("404") || r.status().startsWith("410")) {
              deleted++;
            } else {
              failures.add(where + ": DELETE " + urls.get(i) + ": " + r.error());
            }
          }
        } catch (IOException e) {
          failures.add(where + ": " + urls.size() + " deletions not applied: " + e.getMessage());
        }
      }
    } catch (IOException e) {
      failures.add(file.getFileName() + ": cannot read the file: " + e.getMessage());
    }
    return new Result(deleted, failures);
  }

  /** The {@code Type/id} of each DELETE entry of a line. */
  static List<String> deletions(byte[] line) {
    if (line == null) {
      throw new IllegalArgumentException("longer than " + NdjsonReader.MAX_LINE_BYTES + " bytes");
    }
    JsonNode bundle;
    try {
      bundle = JSON.readTree(line);
    } catch (IOException e) {
      throw new IllegalArgumentException("not JSON");
    }
    if (bundle == null || !"Bundle".equals(bundle.path("resourceType").asText())) {
      throw new IllegalArgumentException("not a Bundle");
    }
    List<String> urls = new ArrayList<>();
    for (JsonNode entry : bundle.path("entry")) {
      String method = entry.path("request").path("method").asText("");
      String url = entry.path("request").path("url").asText("");
      if (!method.equals("DELETE") || !url.matches("[A-Z][A-Za-z]{0,63}/[A-Za-z0-9\\-.]{1,64}")) {
        throw new IllegalArgumentException("an entry that is not DELETE Type/id: " + method + " " + url);
      }
      urls.add(url);
    }
    return urls;
  }

  private static byte[] batch(List<String> urls) {
    ObjectNode bundle = JSON.createObjectNode().put("resourceType", "Bundle").put("type", "batch");
    ArrayNode entries = bundle.putArray("entry");
    for (String url : urls) {
      entries.addObject().putObject("request").put("method", "DELETE").put("url", url);
    }
    return bundle.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  private List<BatchAnswer.EntryResult> send(List<String> urls) throws IOException, InterruptedException {
    byte[] body = batch(urls);
    long pause = 1000;
    boolean renewed = false;
    for (int attempt = 1; ; attempt++) {
      HttpRequest.Builder request = HttpRequest.newBuilder(base)
          .timeout(Duration.ofMinutes(5))
          .header("Content-Type", "application/fhir+json")
          .header("Accept", "application/fhir+json")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      credentials.authorization().ifPresent(value -> request.header("Authorization", value));
      HttpResponse<byte[]> response;
      try {
        response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        if (attempt == ATTEMPTS) {
          throw e;
        }
        Thread.sleep(pause);
        pause *= 2;
        continue;
      }
      if (response.statusCode() == 401 && !renewed) {
        // a token that expired on the way: once more with a new one
        renewed = true;
        credentials.rejected();
        continue;
      }
      if (BUSY.contains(response.statusCode()) && attempt < ATTEMPTS) {
        Thread.sleep(pause);
        pause *= 2;
        continue;
      }
      if (response.statusCode() != 200) {
        throw new IOException("HTTP " + response.statusCode() + ": " + BatchAnswer.outcome(response.body()));
      }
      List<BatchAnswer.EntryResult> results = BatchAnswer.entries(response.body());
      if (results.size() != urls.size()) {
        throw new IOException("the server answered " + results.size() + " entries");
      }
      return results;
    }
  }
}

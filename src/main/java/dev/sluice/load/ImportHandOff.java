package dev.sluice.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.client.Credentials;
import dev.sluice.client.ProgressDisplay;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code sluice load --import}: when the target is a Sluice that offers {@code $import} and
 * its import folder is reachable from here, the files are put in that folder (copied unless
 * they are in it already) and imported by one {@code $import} job instead of batches of PUTs;
 * the progress line follows the job's {@code X-Progress}.
 */
public final class ImportHandOff {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern PROGRESS = Pattern.compile("(\\d+) of (\\d+) inputs done, (\\d+) resources imported");

  /** How the hand-off ended. */
  public enum Outcome { ALL_IMPORTED, SOME_FAILED, NOT_STARTED }

  private final URI server;
  private final Path importDir;
  private final String mode;
  private final HttpClient http;
  private final Credentials credentials;
  private final PrintWriter out;
  private final PrintWriter err;
  private final ProgressDisplay progress;

  /**
   * @param importDir the server's import folder, as this machine sees it
   * @param mode IncrementalLoad or InitialLoad
   */
  public ImportHandOff(URI server, Path importDir, String mode, HttpClient http, Credentials credentials,
      PrintWriter out, PrintWriter err, ProgressDisplay progress) {
    this.server = server;
    this.importDir = importDir.toAbsolutePath().normalize();
    this.mode = mode;
    this.http = http;
    this.credentials = credentials;
    this.out = out;
    this.err = err;
    this.progress = progress;
  }

  public Outcome run(List<Path> paths) throws IOException, InterruptedException {
    if (!offersImport(capabilities())) {
      err.println("sluice load: " + base() + " does not offer $import; load without --import");
      return Outcome.NOT_STARTED;
    }
    List<Path> files = NdjsonFiles.expand(paths, notice -> err.println("sluice load: " + notice));
    if (files.isEmpty()) {
      err.println("sluice load: no .ndjson or .ndjson.gz files in " + paths);
      return Outcome.NOT_STARTED;
    }
    return importFiles(files);
  }

  /**
   * Whether the server is a Sluice (its CapabilityStatement's {@code software.name}) that
   * declares {@code $import}: one whose import folder, when at hand, takes files as they are.
   */
  public boolean sluiceWithImport() throws IOException, InterruptedException {
    JsonNode cs = capabilities();
    return "Sluice".equals(cs.path("software").path("name").asText()) && offersImport(cs);
  }

  /** Imports the files (already known to exist) by one job, the server known to offer {@code $import}. */
  public Outcome importFiles(List<Path> files) throws IOException, InterruptedException {
    String base = base();
    if (!Files.isDirectory(importDir)) {
      err.println("sluice load: --import-dir " + importDir + " is not a folder");
      return Outcome.NOT_STARTED;
    }
    Path run = importDir.resolve("load-" + System.currentTimeMillis());
    List<String> urls = new ArrayList<>();
    for (Path f : files) {
      Path file = f.toAbsolutePath().normalize();
      if (file.startsWith(importDir)) {
        urls.add(importDir.relativize(file).toString());
      } else {
        // copied, not moved: the originals stay where the user keeps them
        Files.createDirectories(run);
        Path target = run.resolve(urls.size() + "-" + file.getFileName());
        Files.copy(file, target, StandardCopyOption.REPLACE_EXISTING);
        urls.add(importDir.relativize(target).toString());
      }
    }
    HttpResponse<String> kick = send(HttpRequest.newBuilder(URI.create(base + "/$import"))
        .header("Content-Type", "application/fhir+json").header("Accept", "application/fhir+json")
        .header("Prefer", "respond-async").POST(HttpRequest.BodyPublishers.ofString(request(urls))));
    if (kick.statusCode() != 202) {
      err.println("sluice load: $import refused (" + kick.statusCode() + "): " + kick.body());
      return Outcome.NOT_STARTED;
    }
    String status = kick.headers().firstValue("Content-Location").orElseThrow();
    long started = System.nanoTime();
    long pause = 250;
    JsonNode result;
    while (true) {
      HttpResponse<String> s = send(HttpRequest.newBuilder(URI.create(status)).GET());
      if (s.statusCode() == 200) {
        result = JSON.readTree(s.body());
        break;
      }
      if (s.statusCode() != 202) {
        progress.finish();
        err.println("sluice load: the import failed (" + s.statusCode() + "): " + s.body());
        return Outcome.SOME_FAILED;
      }
      show(s.headers().firstValue("X-Progress").orElse(""), started);
      // a small file is done in well under the display's interval: the first polls come sooner
      Thread.sleep(Math.min(pause, progress.intervalMillis()));
      pause = Math.min(pause * 2, 60_000);
    }
    progress.finish();
    long imported = 0;
    for (JsonNode o : result.path("output")) {
      imported += o.path("count").asLong();
    }
    long refused = 0;
    for (JsonNode e : result.path("error")) {
      refused += e.path("count").asLong();
      HttpResponse<String> file = send(HttpRequest.newBuilder(URI.create(e.path("url").asText())).GET());
      for (String line : file.body().split("\n")) {
        if (!line.isBlank()) {
          err.println("  " + JSON.readTree(line).path("issue").path(0).path("diagnostics").asText());
        }
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    out.printf("Imported %d resource%s from %d file%s in %s ($import %s); %d line%s refused%n", imported,
        imported == 1 ? "" : "s", files.size(), files.size() == 1 ? "" : "s", ProgressDisplay.duration(seconds), mode,
        refused, refused == 1 ? "" : "s");
    out.flush();
    err.flush();
    return refused == 0 ? Outcome.ALL_IMPORTED : Outcome.SOME_FAILED;
  }

  private void show(String xProgress, long started) {
    Matcher m = PROGRESS.matcher(xProgress);
    if (m.find()) {
      double done = Double.parseDouble(m.group(1));
      double all = Double.parseDouble(m.group(2));
      progress.show(ProgressDisplay.bar(all == 0 ? 0 : done / all, 30) + " " + m.group(1) + "/" + m.group(2)
          + " files, " + m.group(3) + " resources, " + ProgressDisplay.duration((System.nanoTime() - started) / 1e9));
    }
  }

  private String base() {
    return server.toString().replaceAll("/+$", "");
  }

  /** The server's CapabilityStatement; an empty object when it does not give one. */
  private JsonNode capabilities() throws IOException, InterruptedException {
    HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create(base() + "/metadata"))
        .header("Accept", "application/fhir+json").GET());
    if (r.statusCode() != 200) {
      return JSON.createObjectNode();
    }
    try {
      return JSON.readTree(r.body());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return JSON.createObjectNode();
    }
  }

  private static boolean offersImport(JsonNode capabilities) {
    for (JsonNode op : capabilities.path("rest").path(0).path("operation")) {
      if ("import".equals(op.path("name").asText())) {
        return true;
      }
    }
    return false;
  }

  private String request(List<String> urls) {
    ObjectNode p = JSON.createObjectNode();
    p.put("resourceType", "Parameters");
    ArrayNode params = p.putArray("parameter");
    params.addObject().put("name", "inputFormat").put("valueString", "application/fhir+ndjson");
    params.addObject().put("name", "mode").put("valueString", mode);
    for (String url : urls) {
      ArrayNode parts = params.addObject().put("name", "input").putArray("part");
      String type = typeOf(url);
      if (type != null) {
        parts.addObject().put("name", "type").put("valueString", type);
      }
      parts.addObject().put("name", "url").put("valueUri", url);
    }
    return p.toString();
  }

  /**
   * The type a file's name declares, as Bulk Data servers and Synthea name them
   * ({@code Patient.ndjson}, {@code Observation-2.ndjson.gz}); null when the name says none.
   */
  static String typeOf(String url) {
    String name = Path.of(url).getFileName().toString().replaceFirst("^\\d+-", "");
    String prefix = name.split("[.-]", 2)[0];
    return prefix.matches("[A-Z][A-Za-z]+") ? prefix : null;
  }

  private HttpResponse<String> send(HttpRequest.Builder b) throws IOException, InterruptedException {
    credentials.authorization().ifPresent(a -> b.header("Authorization", a));
    return http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
  }
}

package dev.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.client.Credentials;
import dev.sluice.load.Loader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/**
 * {@code sluice train}: the training run of the JVM's ahead-of-time cache (JDK 25+, JEP 483
 * and 515), which {@code ./sluice} makes once per build. A throwaway server on a temporary
 * embedded PostgreSQL loads a small Synthea population through the loader over HTTP, twice
 * (creates, then updates), answers some searches and runs a system export. The classes this
 * loads and the method profiles it gathers go into the cache; a later JVM then starts without
 * loading and linking them again, and compiles its hot code without first profiling it.
 */
@Command(name = "train", hidden = true,
    description = "Exercise a throwaway server so that the JVM can record its ahead-of-time cache (./sluice runs it).")
final class TrainCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Synthea's 10-patient sample (Apache 2.0, see LICENSE.txt next to it), one NDJSON file. */
  private static final String DATA = "/training/synthea-small.ndjson.gz";
  private static final List<String> SEARCHES = List.of(
      "Observation?code=http://loinc.org%7C8302-2&_count=50",
      "Observation?date=ge2015-01-01&date=lt2020-01-01",
      "Observation?subject:Patient.gender=female&_count=20",
      "Patient?name=a&_sort=-birthdate",
      "Encounter?_has:Observation:encounter:status=final&_count=10",
      "Condition?_include=Condition:subject",
      "Patient/not-there",
      "Procedure?_summary=count");

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("sluice-train");
    try {
      Path data = dir.resolve("training.ndjson.gz");
      try (InputStream in = TrainCommand.class.getResourceAsStream(DATA)) {
        if (in == null) {
          throw new IOException(DATA + " is missing from the jar");
        }
        Files.copy(in, data);
      }
      Config config = new Config("127.0.0.1", 0, dir.resolve("data"), null, null, null, 8, null,
          64L * 1024 * 1024, ExportConfig.defaults()).validate();
      try (Application app = Application.start(config);
          HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
        // Ctrl-C: the server closes in order, as serve's does (a second close does nothing)
        app.closeOnExit(() -> { });
        URI base = URI.create("http://127.0.0.1:" + app.port() + "/fhir/");
        for (int round = 0; round < 2; round++) {
          load(http, base, data);
        }
        for (String search : SEARCHES) {
          send(http, HttpRequest.newBuilder(base.resolve(search)).GET());
        }
        export(http, base);
      }
      return 0;
    } finally {
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void load(HttpClient http, URI base, Path data) throws InterruptedException {
    ExecutorService workers = Executors.newFixedThreadPool(4);
    try {
      StringWriter out = new StringWriter();
      Loader.Outcome outcome = new Loader(new Loader.Settings(base, 500, 16L * 1024 * 1024, 4, Duration.ofSeconds(30)), http, Credentials.none(),
          workers,
          new PrintWriter(out), new PrintWriter(out), false).load(List.of(data));
      if (outcome != Loader.Outcome.ALL_LOADED) {
        throw new IllegalStateException("the training load did not store every resource: " + out);
      }
    } finally {
      workers.shutdown();
    }
  }

  private static void export(HttpClient http, URI base) throws IOException, InterruptedException {
    HttpResponse<String> kickOff = send(http, HttpRequest.newBuilder(base.resolve("$export"))
        .header("Accept", "application/fhir+json").header("Prefer", "respond-async").GET());
    String status = kickOff.headers().firstValue("Content-Location")
        .orElseThrow(() -> new IllegalStateException("the training export was not accepted: " + kickOff.body()));
    for (int i = 0; i < 1200; i++) {
      HttpResponse<String> poll = send(http, HttpRequest.newBuilder(URI.create(status)).GET());
      if (poll.statusCode() == 200) {
        for (JsonNode file : JSON.readTree(poll.body()).path("output")) {
          send(http, HttpRequest.newBuilder(URI.create(file.path("url").asText())).GET());
        }
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the training export did not finish within two minutes");
  }

  private static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request)
      throws IOException, InterruptedException {
    return http.send(request.timeout(Duration.ofMinutes(2)).build(), HttpResponse.BodyHandlers.ofString());
  }
}

package dev.sluice.cli;

import dev.sluice.client.Credentials;
import dev.sluice.client.ProgressDisplay;
import dev.sluice.load.ImportHandOff;
import dev.sluice.load.Loader;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code sluice load}: streams NDJSON files into a FHIR server over HTTP. */
@Command(name = "load", mixinStandardHelpOptions = true,
    description = {
        "Load NDJSON files (.ndjson, .ndjson.gz) and folders of them into a FHIR server, keeping each resource's id.",
        "Sends batch Bundles of 'PUT Type/id' entries to POST [base]. Exit code 0 when every line loaded,"
            + " 1 when some failed (listed with file and line) or were not loaded, 2 when the load could not start.",
        "Ctrl-C prints the summary so far."})
final class LoadCommand implements Callable<Integer> {

  @Spec
  CommandSpec spec;

  @Parameters(arity = "1..*", paramLabel = "PATH", description = "NDJSON files and folders holding them.")
  List<Path> paths;

  @Option(names = "--server", defaultValue = "${env:SLUICE_SERVER:-http://127.0.0.1:8080/fhir}",
      description = "FHIR base URL of the server (env SLUICE_SERVER; default ${DEFAULT-VALUE}).")
  URI server;

  @Option(names = "--batch-size", defaultValue = "${env:SLUICE_LOAD_BATCH_SIZE:-500}",
      description = "Resources per batch request (env SLUICE_LOAD_BATCH_SIZE; default ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--concurrency", defaultValue = "${env:SLUICE_LOAD_CONCURRENCY:-4}",
      description = "Batch requests in flight (env SLUICE_LOAD_CONCURRENCY; default ${DEFAULT-VALUE}).")
  int concurrency;

  @Mixin
  ClientAuthOptions auth;

  @Option(names = "--scope", defaultValue = "${env:SLUICE_SCOPE:-system/*.write}",
      description = "SMART Backend Services: the scopes to ask for (env SLUICE_SCOPE; default ${DEFAULT-VALUE}).")
  String scope;

  @Option(names = "--unreachable-limit", defaultValue = "${env:SLUICE_LOAD_UNREACHABLE_LIMIT:-30}",
      description = "Seconds without any answer from the server after which the load stops and counts what it"
          + " did not load (env SLUICE_LOAD_UNREACHABLE_LIMIT; default ${DEFAULT-VALUE}).")
  int unreachableLimitSeconds;

  @Option(names = "--import", defaultValue = "false",
      description = "Hand the files to the server's $import (a Sluice) instead of sending batches; needs --import-dir.")
  boolean viaImport;

  @Option(names = "--import-dir", defaultValue = "${env:SLUICE_IMPORT_DIR}",
      description = "With --import: the server's import folder as this machine sees it; files outside it are copied"
          + " into it (env SLUICE_IMPORT_DIR).")
  Path importDir;

  @Option(names = "--import-mode", defaultValue = "IncrementalLoad",
      description = "With --import: IncrementalLoad (default) or InitialLoad.")
  String importMode;

  /** Bytes of resource JSON per request; well under the server's default 64 MB body limit. */
  private static final long BATCH_BYTES = 16L * 1024 * 1024;

  @Override
  public Integer call() throws Exception {
    Loader.Settings settings;
    try {
      settings = new Loader.Settings(server, batchSize, BATCH_BYTES, concurrency,
          Duration.ofSeconds(unreachableLimitSeconds));
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("sluice load: " + e.getMessage());
      return 2;
    }
    HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
    Credentials credentials;
    try {
      credentials = auth.given().credentials(server, scope, http);
      // a first token now: a client that cannot get one learns why before anything is read
      credentials.authorization();
    } catch (IllegalArgumentException | IllegalStateException e) {
      spec.commandLine().getErr().println("sluice load: " + e.getMessage());
      http.close();
      return 2;
    }
    if (viaImport) {
      if (importDir == null) {
        spec.commandLine().getErr().println("sluice load: --import needs --import-dir, the server's import folder");
        http.close();
        return 2;
      }
      try {
        return switch (new ImportHandOff(server, importDir, importMode, http, credentials, spec.commandLine().getOut(),
            spec.commandLine().getErr(), new ProgressDisplay(spec.commandLine().getErr(), ProgressDisplay.onTerminal()))
            .run(paths)) {
          case ALL_IMPORTED -> 0;
          case SOME_FAILED -> 1;
          case NOT_STARTED -> 2;
        };
      } finally {
        http.close();
      }
    }
    ExecutorService workers = Executors.newFixedThreadPool(concurrency,
        Thread.ofPlatform().name("sluice-load-", 1).daemon().factory());
    try {
      Loader loader = new Loader(settings, http, credentials, workers, spec.commandLine().getOut(),
          spec.commandLine().getErr(), ProgressDisplay.onTerminal());
      return switch (loader.load(paths)) {
        case ALL_LOADED -> 0;
        case SOME_FAILED -> 1;
        case NOT_STARTED -> 2;
      };
    } finally {
      workers.shutdown();
      if (!workers.awaitTermination(30, TimeUnit.SECONDS)) {
        spec.commandLine().getErr().println("sluice load: requests still running after 30 s; stopping them");
        workers.shutdownNow();
      }
      http.close();
    }
  }
}

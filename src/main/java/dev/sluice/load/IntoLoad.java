package dev.sluice.load;

import dev.sluice.client.Credentials;
import dev.sluice.client.ProgressDisplay;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * {@code sluice export --into}: loads an export's files into a FHIR server as each one is
 * downloaded and checked, on its own thread, one file at a time in the order they arrive, while
 * the other files are still downloading. Output files go by batches of PUTs ({@link Loader}) or,
 * when the target is a Sluice whose import folder is at hand, through its {@code $import}
 * ({@link ImportHandOff}); {@code deleted} files are applied as deletions ({@link DeletionReplay}).
 * Each file loaded whole is noted in the {@link IntoLedger}, so a resumed run skips it.
 */
public final class IntoLoad {
  private static final int CONCURRENCY = 4;
  private static final int BATCH_SIZE = 500;
  private static final long BATCH_BYTES = 16L * 1024 * 1024;

  /** How the output files reach the target. */
  public enum Way { BATCHES, IMPORT }

  /** How the load ended, for the exit code. */
  public enum Outcome { ALL_LOADED, SOME_FAILED }

  /** A file to load: its path, its name under the export directory, whether it lists deletions. */
  private record Arrived(Path path, String name, boolean deletions) {}

  private static final Arrived END = new Arrived(Path.of(""), "", false);

  private final URI target;
  private final Way way;
  private final IntoLedger ledger;
  private final PrintWriter out;
  private final ExecutorService workers;
  private final Loader.Session session;
  private final ImportHandOff importer;
  private final DeletionReplay deletions;
  private final BlockingQueue<Arrived> queue = new LinkedBlockingQueue<>();
  private final List<String> failures = new ArrayList<>();
  private final Thread thread;
  private int loaded;
  private int skipped;
  private long deleted;

  private IntoLoad(URI target, Way way, IntoLedger ledger, PrintWriter out, ExecutorService workers,
      Loader.Session session, ImportHandOff importer, DeletionReplay deletions) {
    this.target = target;
    this.way = way;
    this.ledger = ledger;
    this.out = out;
    this.workers = workers;
    this.session = session;
    this.importer = importer;
    this.deletions = deletions;
    this.thread = Thread.ofPlatform().name("sluice-export-into").daemon().unstarted(this::drain);
  }

  /**
   * Checks the target and starts the loading thread.
   *
   * @param credentials the target's, apart from the source's
   * @param dir the export directory (its ledger lives there)
   * @param importDir the target's import folder as this machine sees it, or null: then batches
   * @return empty when the target cannot be loaded into (said on {@code err})
   */
  public static Optional<IntoLoad> start(URI target, Credentials credentials, Path dir, Path importDir, HttpClient http, PrintWriter out,
      PrintWriter err) throws IOException, InterruptedException {
    Way way = Way.BATCHES;
    ImportHandOff importer = null;
    if (importDir != null) {
      if (!Files.isDirectory(importDir)) {
        err.println("sluice export: --into-import-dir " + importDir + " is not a folder");
        return Optional.empty();
      }
      importer = new ImportHandOff(target, importDir, "IncrementalLoad", http, credentials, out, err,
          new ProgressDisplay(err, false));
      boolean sluice;
      boolean answered = true;
      try {
        sluice = importer.sluiceWithImport();
      } catch (IOException unanswered) {
        // said below, where the loader finds the target does not answer
        sluice = false;
        answered = false;
      }
      if (sluice) {
        way = Way.IMPORT;
      } else if (answered) {
        out.println("Note: " + target + " is no Sluice offering $import: --into-import-dir is not used");
      }
    }
    ExecutorService workers = Executors.newFixedThreadPool(CONCURRENCY,
        Thread.ofPlatform().name("sluice-export-into-", 1).daemon().factory());
    Loader loader = new Loader(new Loader.Settings(target, BATCH_SIZE, BATCH_BYTES, CONCURRENCY,
        Duration.ofSeconds(30)), http, credentials, workers, out, err, false);
    Optional<Loader.Session> session = loader.session();
    if (session.isEmpty()) {
      workers.shutdownNow();
      return Optional.empty();
    }
    IntoLedger ledger = IntoLedger.open(dir, target.toString().replaceAll("/+$", ""));
    IntoLoad load = new IntoLoad(target, way, ledger, out, workers, session.get(), importer,
        new DeletionReplay(target, http, credentials));
    out.println("Loading into " + target + (way == Way.IMPORT ? " through $import" : " by batches")
        + " as files arrive");
    out.flush();
    load.thread.start();
    return Optional.of(load);
  }

  /** Hands over a downloaded and checked file; returns at once. */
  public void arrived(Path path, String name, boolean deletions) {
    queue.add(new Arrived(path, name, deletions));
  }

  /** Waits until every file handed over is loaded, prints the summary. */
  public Outcome finish() throws InterruptedException {
    queue.add(END);
    try {
      thread.join();
    } finally {
      workers.shutdownNow();
    }
    if (way == Way.BATCHES) {
      session.finish();
    }
    out.printf("Loaded into %s %s: %d files loaded, %d loaded by an earlier run, %,d deleted%n", target,
        way == Way.IMPORT ? "through $import" : "by batches", loaded, skipped, deleted);
    for (String f : failures) {
      out.println("not loaded whole: " + f);
    }
    out.flush();
    return failures.isEmpty() ? Outcome.ALL_LOADED : Outcome.SOME_FAILED;
  }

  private void drain() {
    try {
      for (Arrived file = queue.take(); file != END; file = queue.take()) {
        load(file);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void load(Arrived file) throws InterruptedException {
    if (ledger.has(file.name())) {
      skipped++;
      out.println("into: " + file.name() + ": loaded by an earlier run, skipped");
      out.flush();
      return;
    }
    String failure;
    try {
      failure = file.deletions() ? applyDeletions(file) : way == Way.IMPORT ? importFile(file) : putFile(file);
      if (failure == null) {
        ledger.add(file.name());
        loaded++;
      }
    } catch (IOException | RuntimeException e) {
      failure = e.toString();
    }
    if (failure != null) {
      failures.add(file.name() + ": " + failure);
    }
    out.flush();
  }

  private String putFile(Arrived file) throws InterruptedException {
    Loader.FileResult r = session.load(file.path());
    out.printf("into: %s: %,d resources loaded%s%n", file.name(), r.stored(),
        r.whole() ? "" : ", " + r.failed() + " not (listed at the end)");
    return r.whole() ? null : r.failed() + " resources not loaded";
  }

  private String importFile(Arrived file) throws IOException, InterruptedException {
    ImportHandOff.Outcome r = importer.importFiles(List.of(file.path()));
    out.println("into: " + file.name() + ": " + (r == ImportHandOff.Outcome.ALL_IMPORTED ? "imported" : "not imported"
        + " whole (above)"));
    return r == ImportHandOff.Outcome.ALL_IMPORTED ? null : "$import did not take every line";
  }

  private String applyDeletions(Arrived file) throws InterruptedException {
    DeletionReplay.Result r = deletions.apply(file.path());
    deleted += r.deleted();
    out.printf("into: %s: %,d deleted%n", file.name(), r.deleted());
    r.failures().forEach(f -> out.println("  " + f));
    return r.whole() ? null : r.failures().size() + " deletions failed";
  }
}

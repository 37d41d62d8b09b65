package dev.sluice.load;

import dev.sluice.client.Credentials;
import dev.sluice.client.NoAnswer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Streams NDJSON files into a FHIR server over HTTP, keeping every resource's id: lines go in
 * batch Bundles of {@code PUT Type/id} entries to {@code POST [base]}, several requests in
 * flight. A line that fails is reported with its file, line number and reason; the others
 * still load. When the server refuses a whole batch (a 4xx or 500 for the request itself), the
 * batch is split in halves until the lines at fault stand alone. A request that gets no answer
 * is tried again until the server has answered nothing for {@code unreachableLimit}; then the
 * load stops and counts what it did not load. Ctrl-C prints the summary so far.
 */
public final class Loader {
  /** Retries of a request answered with a 502/503/504, with doubling pauses. */
  static final int RETRIES = 3;
  /** The longest pause between two attempts of a request that got no answer. */
  private static final long MAX_PAUSE_MILLIS = 8000;

  /**
   * @param batchSize resources per request
   * @param batchBytes bytes of resource JSON per request, at most (a single longer line goes alone)
   * @param concurrency requests in flight
   * @param unreachableLimit how long no request may get an answer before the load stops
   */
  public record Settings(URI base, int batchSize, long batchBytes, int concurrency, Duration unreachableLimit) {
    public Settings {
      if (batchSize < 1 || batchBytes < 1 || concurrency < 1) {
        throw new IllegalArgumentException("batch size, batch bytes and concurrency must be positive");
      }
      if (unreachableLimit.isNegative() || unreachableLimit.isZero()) {
        throw new IllegalArgumentException("the unreachable limit must be positive");
      }
      String b = base.toString();
      base = URI.create(b.endsWith("/") ? b.substring(0, b.length() - 1) : b);
    }
  }

  private final Settings settings;
  private final HttpClient http;
  private final ExecutorService workers;
  private final PrintWriter out;
  private final PrintWriter err;
  private final boolean terminal;
  private final Credentials credentials;
  private final Reachability reachability;
  /**
   * Why the server refused a whole batch for want of credentials or rights (401 with a new token
   * already tried, or 403): every later batch would be refused alike, so the load stops there.
   */
  private final AtomicReference<String> refused = new AtomicReference<>();

  /**
   * @param workers runs the requests; owned by the caller, at least {@code concurrency} threads
   * @param out where the summary goes
   * @param err where progress goes
   */
  public Loader(Settings settings, HttpClient http, Credentials credentials, ExecutorService workers, PrintWriter out,
      PrintWriter err, boolean terminal) {
    this.credentials = credentials;
    this.settings = settings;
    this.http = http;
    this.workers = workers;
    this.out = out;
    this.err = err;
    this.terminal = terminal;
    this.reachability = new Reachability(settings.unreachableLimit());
  }

  /** The outcome of a load, for the exit code. */
  public enum Outcome { ALL_LOADED, SOME_FAILED, NOT_STARTED }

  public Outcome load(List<Path> paths) throws InterruptedException {
    List<Path> files;
    try {
      files = NdjsonFiles.expand(paths, notice -> err.println("sluice load: " + notice));
    } catch (RuntimeException e) {
      err.println("sluice load: " + e.getMessage());
      err.flush();
      return Outcome.NOT_STARTED;
    }
    String unreachable = checkServer();
    if (unreachable != null) {
      err.println("sluice load: the server at " + settings.base() + " does not answer as a FHIR server: " + unreachable);
      err.flush();
      return Outcome.NOT_STARTED;
    }
    long start = System.nanoTime();
    LoadReport report = new LoadReport();
    AtomicLong fileBytesRead = new AtomicLong();
    AtomicLong linesRead = new AtomicLong();
    Progress progress = new Progress(err, terminal, NdjsonFiles.totalSize(files), fileBytesRead, linesRead, report);
    Thread ticker = Thread.ofPlatform().daemon().name("sluice-load-progress").start(() -> tick(progress));
    // Ctrl-C: the JVM runs this hook before it exits, while the load's threads still run
    Thread interrupted = new Thread(() -> {
      ticker.interrupt();
      progress.finish();
      out.println("Interrupted: the summary so far (lines not answered yet are not counted)");
      report.print(out, files.size(), Duration.ofNanos(System.nanoTime() - start));
      out.flush();
    }, "sluice-load-interrupted");
    Runtime.getRuntime().addShutdownHook(interrupted);
    Semaphore inFlight = new Semaphore(settings.concurrency());
    try {
      for (Path file : files) {
        readFile(file, fileBytesRead, linesRead, report, inFlight);
      }
      inFlight.acquire(settings.concurrency());
    } finally {
      ticker.interrupt();
      ticker.join();
      removeHook(interrupted);
    }
    progress.finish();
    whyStopped().ifPresent(report::stopped);
    report.print(out, files.size(), Duration.ofNanos(System.nanoTime() - start));
    out.flush();
    return report.failed() == 0 && report.notLoaded() == 0 ? Outcome.ALL_LOADED : Outcome.SOME_FAILED;
  }

  /**
   * A load of files handed over one at a time as they become available ({@code sluice export
   * --into}): no progress line and no Ctrl-C summary of its own (the export has them); each file's
   * batches are all answered before {@link Session#load} returns, so its result is final.
   *
   * @return empty when the server does not answer as a FHIR server (said on {@code err})
   */
  public java.util.Optional<Session> session() throws InterruptedException {
    String unreachable = checkServer();
    if (unreachable != null) {
      err.println("sluice: the server at " + settings.base() + " does not answer as a FHIR server: " + unreachable);
      err.flush();
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(new Session());
  }

  /** One file's end in a {@link Session}: lines stored, and lines failed or not loaded. */
  public record FileResult(long stored, long failed) {
    public boolean whole() {
      return failed == 0;
    }
  }

  /** See {@link #session()}. */
  public final class Session {
    private final LoadReport report = new LoadReport();
    private final Semaphore inFlight = new Semaphore(settings.concurrency());
    private final AtomicLong bytesRead = new AtomicLong();
    private final AtomicLong linesRead = new AtomicLong();
    private final long start = System.nanoTime();
    private int files;

    private Session() {}

    /** Loads one file and waits for every batch of it to be answered. */
    public FileResult load(Path file) throws InterruptedException {
      long stored = report.stored();
      long unsuccessful = report.failed() + report.notLoaded();
      readFile(file, bytesRead, linesRead, report, inFlight);
      inFlight.acquire(settings.concurrency());
      inFlight.release(settings.concurrency());
      files++;
      return new FileResult(report.stored() - stored, report.failed() + report.notLoaded() - unsuccessful);
    }

    /** Prints the summary of every file loaded. */
    public Outcome finish() {
      whyStopped().ifPresent(report::stopped);
      report.print(out, files, Duration.ofNanos(System.nanoTime() - start));
      out.flush();
      return report.failed() == 0 && report.notLoaded() == 0 ? Outcome.ALL_LOADED : Outcome.SOME_FAILED;
    }
  }

  private static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs, or has run
    }
  }

  private void readFile(Path file, AtomicLong fileBytesRead, AtomicLong linesRead, LoadReport report,
      Semaphore inFlight) throws InterruptedException {
    List<NdjsonLine> batch = new ArrayList<>();
    long batchBytes = 0;
    try (NdjsonReader reader = new NdjsonReader(file, fileBytesRead)) {
      NdjsonReader.RawLine raw;
      while ((raw = reader.next()) != null) {
        linesRead.incrementAndGet();
        if (raw.bytes() == null) {
          report.failed(file + ":" + raw.number(), "longer than " + NdjsonReader.MAX_LINE_BYTES + " bytes");
          continue;
        }
        switch (LineCheck.check(raw.bytes())) {
          case LineCheck.Invalid invalid -> report.failed(file + ":" + raw.number(), invalid.reason());
          case LineCheck.Resource r -> {
            if (!batch.isEmpty() && batchBytes + raw.bytes().length > settings.batchBytes()) {
              dispatch(batch, report, inFlight);
              batch = new ArrayList<>();
              batchBytes = 0;
            }
            batch.add(new NdjsonLine(file, raw.number(), r.type(), r.id(), raw.bytes()));
            batchBytes += raw.bytes().length;
            if (batch.size() >= settings.batchSize()) {
              dispatch(batch, report, inFlight);
              batch = new ArrayList<>();
              batchBytes = 0;
            }
          }
        }
      }
    } catch (IOException e) {
      report.failed(file.toString(), "cannot read the file (the rest of it was not loaded): " + e.getMessage());
    }
    if (!batch.isEmpty()) {
      dispatch(batch, report, inFlight);
    }
  }

  /** Why the load stopped sending, if it did. */
  private java.util.Optional<String> whyStopped() {
    if (refused.get() != null) {
      return java.util.Optional.of("the server refused this load's credentials (" + refused.get() + ")");
    }
    if (reachability.gaveUp()) {
      return java.util.Optional.of("the server at " + settings.base() + " did not answer for "
          + settings.unreachableLimit().toSeconds() + " s");
    }
    return java.util.Optional.empty();
  }

  private void dispatch(List<NdjsonLine> batch, LoadReport report, Semaphore inFlight) throws InterruptedException {
    if (reachability.gaveUp() || refused.get() != null) {
      // the rest of the files is still read, to count what was not loaded
      report.notLoaded(batch.size());
      return;
    }
    inFlight.acquire();
    try {
      workers.execute(() -> {
        try {
          send(batch, report);
        } catch (RuntimeException e) {
          failAll(batch, report, "the loader failed: " + e);
        } finally {
          inFlight.release();
        }
      });
    } catch (RuntimeException e) {
      inFlight.release();
      throw e;
    }
  }

  private void send(List<NdjsonLine> lines, LoadReport report) {
    if (refused.get() != null) {
      // dispatched before the refusal came back
      report.notLoaded(lines.size());
      return;
    }
    HttpResponse<byte[]> response;
    try {
      response = post(BatchBundle.of(lines));
    } catch (Unanswered e) {
      report.notLoaded(lines.size());
      return;
    } catch (IOException e) {
      failAll(lines, report, e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failAll(lines, report, "interrupted before the server answered");
      return;
    }
    int status = response.statusCode();
    if (status == 200) {
      record(lines, response.body(), report);
    } else if (status == 401 || status == 403) {
      refused.compareAndSet(null, "HTTP " + status + ": " + BatchAnswer.outcome(response.body()));
      report.notLoaded(lines.size());
    } else if (lines.size() > 1 && (status >= 400 && status < 500 || status == 500)) {
      // the request as a whole was refused (not for want of a token or scope): find the lines at fault by halving
      int half = lines.size() / 2;
      send(lines.subList(0, half), report);
      send(lines.subList(half, lines.size()), report);
    } else {
      failAll(lines, report, "HTTP " + status + ": " + BatchAnswer.outcome(response.body()));
    }
  }

  private void record(List<NdjsonLine> lines, byte[] body, LoadReport report) {
    List<BatchAnswer.EntryResult> results;
    try {
      results = BatchAnswer.entries(body);
    } catch (IOException e) {
      failAll(lines, report, "unreadable answer from the server: " + e.getMessage());
      return;
    }
    if (results.size() != lines.size()) {
      failAll(lines, report, "the server answered " + results.size() + " entries for " + lines.size());
      return;
    }
    for (int i = 0; i < lines.size(); i++) {
      NdjsonLine line = lines.get(i);
      BatchAnswer.EntryResult result = results.get(i);
      if (result.ok()) {
        report.stored(line);
      } else {
        report.failed(line.where(), result.error());
      }
    }
  }

  private HttpResponse<byte[]> post(byte[] body) throws IOException, InterruptedException {
    long pauseMillis = 1000;
    int busyAnswers = 0;
    boolean renewed = false;
    while (true) {
      // built for each attempt: the token may have been renewed since the last one
      HttpRequest.Builder builder = HttpRequest.newBuilder(settings.base())
          .timeout(Duration.ofMinutes(10))
          .header("Content-Type", "application/fhir+json")
          .header("Accept", "application/fhir+json")
          .header("Prefer", "return=minimal")
          .POST(HttpRequest.BodyPublishers.ofByteArray(body));
      credentials.authorization().ifPresent(value -> builder.header("Authorization", value));
      HttpRequest request = builder.build();
      if (reachability.gaveUp()) {
        throw new Unanswered();
      }
      HttpResponse<byte[]> response = null;
      try {
        response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      } catch (IOException e) {
        // no answer (refused, reset, timed out): tried again until the server has been silent too long
        if (reachability.failed()) {
          throw new Unanswered();
        }
      }
      if (response != null) {
        reachability.answered();
        int status = response.statusCode();
        if (status == 401 && !renewed) {
          // a token the server no longer takes (revoked, its keys rotated): once more with a new one
          credentials.rejected();
          renewed = true;
          continue;
        }
        if (status != 502 && status != 503 && status != 504) {
          return response;
        }
        if (++busyAnswers > RETRIES) {
          throw new IOException("HTTP " + status + " after " + (RETRIES + 1) + " attempts: "
              + BatchAnswer.outcome(response.body()));
        }
      }
      Thread.sleep(Math.min(pauseMillis, Math.max(1, reachability.left().toMillis())));
      pauseMillis = Math.min(pauseMillis * 2, MAX_PAUSE_MILLIS);
    }
  }

  /** The server has answered nothing for longer than the limit: the batch was not loaded. */
  private static final class Unanswered extends IOException {
    Unanswered() {
      super("the server did not answer");
    }
  }

  private static void failAll(List<NdjsonLine> lines, LoadReport report, String reason) {
    for (NdjsonLine line : lines) {
      report.failed(line.where(), reason);
    }
  }

  /** Null when {@code GET [base]/metadata} answers 200, else why not. */
  private String checkServer() throws InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(settings.base() + "/metadata"))
        .timeout(Duration.ofSeconds(30))
        .header("Accept", "application/fhir+json")
        .GET()
        .build();
    try {
      HttpResponse<Void> response = http.send(request, HttpResponse.BodyHandlers.discarding());
      return response.statusCode() == 200 ? null : "GET /metadata answered " + response.statusCode();
    } catch (IOException e) {
      return NoAnswer.describe(e);
    }
  }

  private static void tick(Progress progress) {
    try {
      while (true) {
        Thread.sleep(progress.intervalMillis());
        progress.show();
      }
    } catch (InterruptedException e) {
      // the load is over: the ticker stops
      Thread.currentThread().interrupt();
    }
  }
}

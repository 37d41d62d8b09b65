package dev.sluice.pull;

import dev.sluice.client.Credentials;
import dev.sluice.client.ProgressDisplay;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code sluice export}: a Bulk Data client of any server. Kicks an export off (or attaches to
 * one, or resumes what an output directory holds), polls it, downloads its files in parallel
 * under the output directory and checks them against the manifest. The status URL and then
 * the manifest are kept in the directory as soon as they are known, so a run that stops
 * (Ctrl-C, a crash, a dropped network) can be continued with {@link Job#resume()}.
 */
public final class Puller {
  static final String STATUS_FILE = "status-url";
  static final String MANIFEST_FILE = "manifest.json";
  /** Attempts of one request answered 429/5xx or not at all, before the run gives up on it. */
  private static final int ATTEMPTS = 8;

  /**
   * @param server the FHIR base URL (kick-off; for attach and resume only where tokens come from)
   * @param out the directory the files go to
   * @param parallel downloads at once
   * @param compression when a fresh download asks for gzip
   */
  public record Settings(URI server, Path out, int parallel, Compression compression) {
    public Settings {
      if (parallel < 1) {
        throw new IllegalArgumentException("--parallel must be at least 1, got " + parallel);
      }
    }
  }

  /** For the exit code. */
  public enum Outcome { COMPLETE, INCOMPLETE, FAILED }

  private final Settings settings;
  private final ServerCalls calls;
  private final PrintWriter out;
  private final PrintWriter err;
  private final ProgressDisplay display;

  /**
   * @param http a client that does not follow redirects (the token must not follow one to
   *     another host)
   * @param out where the summary and the status URL go
   * @param err where progress goes
   */
  public Puller(Settings settings, HttpClient http, Credentials credentials, PrintWriter out, PrintWriter err,
      boolean terminal) {
    this.settings = settings;
    this.calls = new ServerCalls(http, credentials, Clock.systemUTC(), ATTEMPTS);
    this.out = out;
    this.err = err;
    this.display = new ProgressDisplay(err, terminal);
  }

  public Outcome run(Job job) throws InterruptedException {
    return run(job, Arrivals.none());
  }

  /** As {@link #run(Job)}, telling {@code arrivals} of each output and deleted file once it is checked. */
  public Outcome run(Job job, Arrivals arrivals) throws InterruptedException {
    try {
      Files.createDirectories(settings.out());
      URI status = status(job);
      Interruption interruption = new Interruption(status, settings.out(), calls, display, out);
      interruption.install();
      try {
        return download(job, status, arrivals);
      } finally {
        interruption.remove();
      }
    } catch (PullFailed e) {
      display.finish();
      err.println("sluice export: " + e.getMessage());
      err.flush();
      return Outcome.FAILED;
    } catch (IOException e) {
      display.finish();
      err.println("sluice export: " + e.getMessage());
      err.flush();
      return Outcome.FAILED;
    }
  }

  /** The status URL: from a kick-off, as given, or as an earlier run kept it. */
  private URI status(Job job) throws PullFailed, IOException, InterruptedException {
    Path statusFile = settings.out().resolve(STATUS_FILE);
    return switch (job) {
      case Job.Start start -> {
        if (Files.exists(statusFile)) {
          throw new PullFailed(settings.out() + " holds another export (" + STATUS_FILE + "): --resume continues it,"
              + " or give another --out");
        }
        URI status = kickOff(start.kickOff());
        write(statusFile, status.toString());
        out.println("Export kicked off; status URL: " + status);
        out.flush();
        yield status;
      }
      case Job.Attach attach -> {
        write(statusFile, attach.status().toString());
        yield attach.status();
      }
      case Job.Resume resume -> {
        if (!Files.exists(statusFile)) {
          throw new PullFailed(settings.out() + " holds no export to resume (no " + STATUS_FILE + ")");
        }
        yield URI.create(Files.readString(statusFile).strip());
      }
    };
  }

  private URI kickOff(KickOff kickOff) throws PullFailed, IOException, InterruptedException {
    HttpRequest request = kickOff.request(settings.server()).timeout(Duration.ofMinutes(2)).build();
    HttpResponse<String> response = calls.send(request, HttpResponse.BodyHandlers.ofString(), true);
    if (response.statusCode() != 202) {
      throw new PullFailed("the kick-off " + request.method() + " " + request.uri() + " was refused: "
          + ServerAnswer.describe(response.statusCode(), response.body()));
    }
    String location = response.headers().firstValue("Content-Location")
        .orElseThrow(() -> new PullFailed("the kick-off was accepted (202) without a Content-Location"));
    return request.uri().resolve(location);
  }

  private Outcome download(Job job, URI status, Arrivals arrivals) throws PullFailed, IOException, InterruptedException {
    Path manifestFile = settings.out().resolve(MANIFEST_FILE);
    String json;
    if (job instanceof Job.Resume && Files.exists(manifestFile)) {
      json = Files.readString(manifestFile);
    } else {
      json = new StatusPoller(calls, display).await(status);
      write(manifestFile, json);
    }
    Manifest manifest;
    try {
      manifest = Manifest.parse(json, status);
    } catch (IllegalArgumentException e) {
      throw new PullFailed("the manifest from " + status + " cannot be used: " + e.getMessage());
    }
    List<FileDownload.Result> results = fetchAll(manifest, arrivals);
    PullReport report = new PullReport(results);
    report.print(out, settings.out(), manifest.transactionTime());
    return report.complete() ? Outcome.COMPLETE : Outcome.INCOMPLETE;
  }

  private List<FileDownload.Result> fetchAll(Manifest manifest, Arrivals arrivals) throws InterruptedException {
    AtomicLong fetched = new AtomicLong();
    AtomicInteger done = new AtomicInteger();
    FileDownload download = new FileDownload(calls, settings.out(), manifest.requiresAccessToken(), settings.compression(),
        fetched);
    ExecutorService pool = Executors.newFixedThreadPool(settings.parallel(),
        Thread.ofPlatform().name("sluice-export-download-", 1).daemon().factory());
    long start = System.nanoTime();
    int total = manifest.files().size();
    Thread ticker = Thread.ofPlatform().daemon().name("sluice-export-progress").start(() -> {
      try {
        while (true) {
          Thread.sleep(display.intervalMillis());
          display.show(downloadLine(done.get(), total, fetched.get(), start));
        }
      } catch (InterruptedException e) {
        // the downloads are over
      }
    });
    try {
      List<Future<FileDownload.Result>> futures = new ArrayList<>();
      for (Manifest.Entry entry : manifest.files()) {
        futures.add(pool.submit(() -> {
          try {
            FileDownload.Result result = download.fetch(entry);
            if (result.checked().isPresent() && entry.kind() != Manifest.Kind.ERROR) {
              arrivals.arrived(settings.out().resolve(entry.fileName()), entry.fileName(),
                  entry.kind() == Manifest.Kind.DELETED);
            }
            return result;
          } finally {
            done.incrementAndGet();
          }
        }));
      }
      List<FileDownload.Result> results = new ArrayList<>();
      for (int i = 0; i < futures.size(); i++) {
        try {
          results.add(futures.get(i).get());
        } catch (ExecutionException e) {
          results.add(FileDownload.Result.failed(manifest.files().get(i),
              manifest.files().get(i).fileName() + ": " + e.getCause()));
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
      ticker.interrupt();
      ticker.join();
      display.show(downloadLine(done.get(), total, fetched.get(), start));
      display.finish();
    }
  }

  private String downloadLine(int done, int total, long bytes, long start) {
    double seconds = Math.max(System.nanoTime() - start, 1) / 1e9;
    String text = String.format("%d of %d files, %.1f MB fetched, %.1f MB/s, %s elapsed", done, total, bytes / 1e6,
        bytes / 1e6 / seconds, ProgressDisplay.duration(seconds));
    return display.terminal() ? ProgressDisplay.bar(total == 0 ? 1 : (double) done / total, 30) + " " + text
        : "download: " + text;
  }

  /** Written whole or not at all: a crash leaves the old file or the new one. */
  private static void write(Path file, String text) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(tmp, text, StandardCharsets.UTF_8);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}

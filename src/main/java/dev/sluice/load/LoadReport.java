package dev.sluice.load;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a load did, collected from the worker threads: resources stored per type, and the lines
 * that failed with where and why. Failure details are kept up to a limit; beyond it only
 * counted.
 */
final class LoadReport {
  /** Failures listed in detail; more are only counted, so memory stays bounded. */
  static final int MAX_LISTED_FAILURES = 1000;

  record Failure(String where, String reason) {}

  private final Map<String, Long> storedByType = new TreeMap<>();
  private final List<Failure> failures = new ArrayList<>();
  private final AtomicLong stored = new AtomicLong();
  private final AtomicLong storedBytes = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private final AtomicLong notLoaded = new AtomicLong();
  private volatile String stopped;

  void stored(NdjsonLine line) {
    synchronized (storedByType) {
      storedByType.merge(line.type(), 1L, Long::sum);
    }
    storedBytes.addAndGet(line.bytes().length);
    stored.incrementAndGet();
  }

  void failed(String where, String reason) {
    synchronized (failures) {
      if (failures.size() < MAX_LISTED_FAILURES) {
        failures.add(new Failure(where, reason));
      }
    }
    failed.incrementAndGet();
  }

  /** Lines not loaded because the load stopped: never sent, or sent without an answer. */
  void notLoaded(int lines) {
    notLoaded.addAndGet(lines);
  }

  /** The load stopped early, for this reason. */
  void stopped(String why) {
    stopped = why;
  }

  long notLoaded() {
    return notLoaded.get();
  }

  /** Lines answered: stored, failed, or given up on. */
  long done() {
    return stored.get() + failed.get() + notLoaded.get();
  }

  long stored() {
    return stored.get();
  }

  long storedBytes() {
    return storedBytes.get();
  }

  long failed() {
    return failed.get();
  }

  Map<String, Long> storedByType() {
    synchronized (storedByType) {
      return new TreeMap<>(storedByType);
    }
  }

  List<Failure> failures() {
    synchronized (failures) {
      return List.copyOf(failures);
    }
  }

  void print(PrintWriter out, int files, Duration took) {
    double seconds = Math.max(took.toMillis(), 1) / 1000.0;
    out.printf("Loaded %,d of %,d resources from %d file%s in %.1f s (%,.0f resources/s, %.1f MB/s)%n",
        stored(), done(), files, files == 1 ? "" : "s", seconds, stored() / seconds,
        storedBytes() / seconds / 1e6);
    synchronized (storedByType) {
      storedByType.forEach((type, n) -> out.printf("  %-32s %,12d%n", type, n));
    }
    if (failed() > 0) {
      out.printf("%,d line%s failed:%n", failed(), failed() == 1 ? "" : "s");
      for (Failure f : failures()) {
        out.println("  " + f.where() + ": " + f.reason());
      }
      if (failed() > MAX_LISTED_FAILURES) {
        out.printf("  ... and %,d more%n", failed() - MAX_LISTED_FAILURES);
      }
    }
    if (notLoaded() > 0) {
      out.printf("Stopped: %s; %,d resource%s not loaded (not sent, or sent without an answer)%n",
          stopped == null ? "the load did not finish" : stopped, notLoaded(), notLoaded() == 1 ? " was" : "s were");
    }
  }
}

package dev.sluice.load;

import dev.sluice.client.ProgressDisplay;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shows how far a load is: a bar redrawn in place on a terminal, plain lines every few
 * seconds otherwise (logs, CI). The fraction done is the share of resources answered (stored
 * or failed) out of all the lines; until every file is read, that total is estimated from
 * the lines read so far and the share of file bytes they came from. Reading runs ahead of the
 * answers by the requests in flight and the bytes buffered, so bytes read alone said 98 %
 * with 43 % still to store. Speed counts stored resources and their uncompressed bytes.
 */
final class Progress {
  private final ProgressDisplay display;
  private final long totalFileBytes;
  private final AtomicLong fileBytesRead;
  private final AtomicLong linesRead;
  private final LoadReport report;
  private final long startNanos = System.nanoTime();

  Progress(PrintWriter out, boolean terminal, long totalFileBytes, AtomicLong fileBytesRead, AtomicLong linesRead,
      LoadReport report) {
    this.display = new ProgressDisplay(out, terminal);
    this.totalFileBytes = totalFileBytes;
    this.fileBytesRead = fileBytesRead;
    this.linesRead = linesRead;
    this.report = report;
  }

  /** How often {@link #show()} should run. */
  long intervalMillis() {
    return display.intervalMillis();
  }

  synchronized void show() {
    double seconds = Math.max(System.nanoTime() - startNanos, 1) / 1e9;
    // read in this order: the answers never outnumber the lines read before them
    long done = report.done();
    long lines = linesRead.get();
    double read = totalFileBytes == 0 ? 1 : Math.min(1.0, (double) fileBytesRead.get() / totalFileBytes);
    long total = read >= 1 ? lines : read > 0 ? Math.max(lines, Math.round(lines / read)) : 0;
    double fraction = total == 0 ? 0 : Math.min(1.0, (double) done / total);
    long stored = report.stored();
    double perSecond = stored / seconds;
    double mbPerSecond = report.storedBytes() / seconds / 1e6;
    double donePerSecond = done / seconds;
    String left = fraction > 0.01 && donePerSecond > 0 ? ProgressDisplay.duration((total - done) / donePerSecond) : "?";
    String failed = report.failed() > 0 ? String.format(", %,d failed", report.failed()) : "";
    String of = (read >= 1 ? " of " : " of ~") + String.format("%,d", total);
    if (display.terminal()) {
      display.show(String.format("%s %3.0f%% %,d%s resources%s, %,.0f/s, %.1f MB/s, %s left",
          ProgressDisplay.bar(fraction, 30), fraction * 100, stored, of, failed, perSecond, mbPerSecond, left));
    } else {
      display.show(String.format("load: %3.0f%% done, %,d%s resources stored%s (%.0f%% of the files read), %,.0f"
          + " resources/s, %.1f MB/s, about %s left", fraction * 100, stored, of, failed, read * 100, perSecond,
          mbPerSecond, left));
    }
  }

  /**
   * Shows the final state (a load shorter than the interval would otherwise show none) and
   * ends the bar's line so the summary starts on a fresh one.
   */
  synchronized void finish() {
    show();
    display.finish();
  }
}

package dev.sluice.load;

import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shows how far a load is: a bar redrawn in place on a terminal, plain lines every few
 * seconds otherwise (logs, CI). The fraction done is the share of file bytes read; speed
 * counts stored resources and their uncompressed bytes.
 */
final class Progress {
  private final PrintWriter out;
  private final boolean terminal;
  private final long totalFileBytes;
  private final AtomicLong fileBytesRead;
  private final LoadReport report;
  private final long startNanos = System.nanoTime();
  private int lastWidth;

  Progress(PrintWriter out, boolean terminal, long totalFileBytes, AtomicLong fileBytesRead, LoadReport report) {
    this.out = out;
    this.terminal = terminal;
    this.totalFileBytes = totalFileBytes;
    this.fileBytesRead = fileBytesRead;
    this.report = report;
  }

  /** How often {@link #show()} should run. */
  long intervalMillis() {
    return terminal ? 250 : 5000;
  }

  synchronized void show() {
    double seconds = Math.max(System.nanoTime() - startNanos, 1) / 1e9;
    double fraction = totalFileBytes == 0 ? 1 : Math.min(1.0, (double) fileBytesRead.get() / totalFileBytes);
    long stored = report.stored();
    double perSecond = stored / seconds;
    double mbPerSecond = report.storedBytes() / seconds / 1e6;
    String left = fraction > 0.01 ? duration(seconds * (1 - fraction) / fraction) : "?";
    String failed = report.failed() > 0 ? String.format(", %,d failed", report.failed()) : "";
    if (terminal) {
      int width = 30;
      int filled = (int) Math.round(fraction * width);
      String line = String.format("\r[%s%s] %3.0f%% %,d resources%s, %,.0f/s, %.1f MB/s, %s left",
          "#".repeat(filled), ".".repeat(width - filled), fraction * 100, stored, failed, perSecond,
          mbPerSecond, left);
      int pad = Math.max(0, lastWidth - line.length());
      lastWidth = line.length();
      out.print(line + " ".repeat(pad));
      out.flush();
    } else {
      out.printf("load: %3.0f%% read, %,d resources stored%s, %,.0f resources/s, %.1f MB/s, about %s left%n",
          fraction * 100, stored, failed, perSecond, mbPerSecond, left);
    }
  }

  /**
   * Shows the final state (a load shorter than the interval would otherwise show none) and
   * ends the bar's line so the summary starts on a fresh one.
   */
  synchronized void finish() {
    show();
    if (terminal) {
      out.println();
    }
  }

  private static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format("%d:%02d", s / 60, s % 60);
  }
}

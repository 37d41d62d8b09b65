package dev.sluice.client;

import java.io.Console;
import java.io.PrintWriter;

/**
 * Where a client command shows how far it is ({@code sluice load}, {@code sluice export}): one
 * line redrawn in place on a terminal, plain lines every few seconds otherwise (logs, CI).
 * The commands say what the line holds; this says how it is drawn.
 */
public final class ProgressDisplay {
  private final PrintWriter out;
  private final boolean terminal;
  private int lastWidth;

  public ProgressDisplay(PrintWriter out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  public boolean terminal() {
    return terminal;
  }

  /** How often the line should be shown. */
  public long intervalMillis() {
    return terminal ? 250 : 5000;
  }

  /** Shows one state: redrawn over the previous one on a terminal, a new line otherwise. */
  public synchronized void show(String line) {
    if (terminal) {
      int pad = Math.max(0, lastWidth - line.length());
      lastWidth = line.length();
      out.print("\r" + line + " ".repeat(pad));
    } else {
      out.println(line);
    }
    out.flush();
  }

  /** Ends the bar's line, so what follows starts on a fresh one. */
  public synchronized void finish() {
    if (terminal && lastWidth > 0) {
      out.println();
      out.flush();
      lastWidth = 0;
    }
  }

  /** A bar of {@code width} characters, {@code fraction} of it filled. */
  public static String bar(double fraction, int width) {
    int filled = (int) Math.round(Math.max(0, Math.min(1, fraction)) * width);
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }

  /** Seconds as m:ss, or h:mm:ss from an hour on. */
  public static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
        : String.format("%d:%02d", s / 60, s % 60);
  }

  /**
   * Whether the process runs on an interactive terminal. From JDK 22 on, System.console() is
   * not null even when output is redirected, and only Console.isTerminal() (absent from the
   * JDK 21 API this is compiled against) tells; so it is looked up when present.
   */
  public static boolean onTerminal() {
    Console console = System.console();
    if (console == null) {
      return false;
    }
    try {
      return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
    } catch (ReflectiveOperationException e) {
      return true;
    }
  }
}

package dev.sluice.pull;

import dev.sluice.client.ProgressDisplay;
import java.io.Console;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Ctrl-C during a run: on a terminal the user is asked whether to cancel the export on the
 * server ({@code DELETE} of its status URL) or leave it running; without one it is left
 * running. Either way the status URL and how to continue are printed.
 */
final class Interruption {
  private final URI status;
  private final Path dir;
  private final ServerCalls calls;
  private final ProgressDisplay display;
  private final PrintWriter out;
  private final Thread hook;

  Interruption(URI status, Path dir, ServerCalls calls, ProgressDisplay display, PrintWriter out) {
    this.status = status;
    this.dir = dir;
    this.calls = calls;
    this.display = display;
    this.out = out;
    this.hook = new Thread(this::interrupted, "sluice-export-interrupted");
  }

  void install() {
    Runtime.getRuntime().addShutdownHook(hook);
  }

  void remove() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // the JVM is shutting down: the hook runs, or has run
    }
  }

  private void interrupted() {
    display.finish();
    Console console = System.console();
    if (display.terminal() && console != null) {
      String answer = console.readLine("%nInterrupted. Cancel the export on the server? [y/N] ");
      if (answer != null && answer.strip().toLowerCase(java.util.Locale.ROOT).startsWith("y")) {
        cancel();
        return;
      }
    }
    out.println("Interrupted; the export is left on the server. Status URL: " + status);
    out.println("Continue with: sluice export --resume --out " + dir);
    out.flush();
  }

  private void cancel() {
    try {
      HttpResponse<String> r = calls.send(HttpRequest.newBuilder(status).timeout(Duration.ofSeconds(30)).DELETE()
          .build(), HttpResponse.BodyHandlers.ofString(), true);
      out.println(r.statusCode() == 202 || r.statusCode() == 200 || r.statusCode() == 204
          ? "The export at " + status + " is cancelled."
          : "Cancelling " + status + " failed: " + ServerAnswer.describe(r.statusCode(), r.body()));
    } catch (Exception e) {
      out.println("Cancelling " + status + " failed: " + e.getMessage());
    }
    out.flush();
  }
}

package dev.sluice.pull;

import dev.sluice.client.ProgressDisplay;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * Polls an export's status URL until the manifest is there: as often as the server's
 * {@code Retry-After} says (else every few seconds, less often as time goes on), showing its
 * {@code X-Progress} and the time since polling began.
 */
final class StatusPoller {
  private static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
  private static final Duration MAX_PAUSE = Duration.ofMinutes(1);
  /** The longest Retry-After honoured as given. */
  private static final Duration MAX_WAIT = Duration.ofMinutes(5);

  private final ServerCalls calls;
  private final ProgressDisplay display;

  StatusPoller(ServerCalls calls, ProgressDisplay display) {
    this.calls = calls;
    this.display = display;
  }

  /** The manifest's JSON, once the export is complete. */
  String await(URI status) throws PullFailed, IOException, InterruptedException {
    long start = System.nanoTime();
    Duration pause = FIRST_PAUSE;
    while (true) {
      HttpRequest request = HttpRequest.newBuilder(status).timeout(Duration.ofMinutes(2))
          .header("Accept", "application/json").GET().build();
      HttpResponse<String> response = calls.send(request, HttpResponse.BodyHandlers.ofString(), true);
      int code = response.statusCode();
      if (code == 200) {
        display.show(line("complete", start));
        display.finish();
        return response.body();
      }
      if (code != 202) {
        display.finish();
        throw new PullFailed("the export at " + status + " failed: " + ServerAnswer.describe(code, response.body()));
      }
      String progress = response.headers().firstValue("X-Progress").orElse("in progress");
      Duration wait = calls.retryAfter(response).orElse(pause);
      pause = pause.multipliedBy(2).compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : pause.multipliedBy(2);
      long until = System.nanoTime() + Math.min(wait.toNanos(), MAX_WAIT.toNanos());
      display.show(line(progress, start));
      // on a terminal the elapsed time keeps moving while the pause lasts
      for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
        Thread.sleep(Math.max(1, Math.min(display.terminal() ? display.intervalMillis() : Long.MAX_VALUE,
            left / 1_000_000)));
        if (display.terminal()) {
          display.show(line(progress, start));
        }
      }
    }
  }

  private static String line(String progress, long start) {
    return "export: " + progress + ", " + ProgressDisplay.duration((System.nanoTime() - start) / 1e9) + " elapsed";
  }
}

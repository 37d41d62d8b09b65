package dev.sluice.pull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.client.ProgressDisplay;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;

/**
 * Polls an export's status URL until the manifest is there: as often as the server's
 * {@code Retry-After} says (else every few seconds, less often as time goes on), showing its
 * {@code X-Progress} and the time since polling began.
 *
 * <p>A 5xx is the guide's way to say the job failed only when its OperationOutcome says so: the
 * guide asks a server whose status call failed, but not the job, to answer with a transient
 * issue code, and a 5xx without an OperationOutcome comes from a proxy or a server in trouble,
 * not from the job. Those are polled again ({@link #MAX_SERVER_ERRORS} in a row at most).
 */
final class StatusPoller {
  private static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
  private static final Duration MAX_PAUSE = Duration.ofMinutes(1);
  /** The longest Retry-After honoured as given. */
  private static final Duration MAX_WAIT = Duration.ofMinutes(5);

  /** 5xx answers in a row that do not end the run; the next one does. */
  static final int MAX_SERVER_ERRORS = 8;
  /**
   * Issue codes that mean "poll again": the guide's {@code transient} and its plainly temporary
   * children. Not {@code exception}, {@code no-store}, {@code incomplete}: servers (Sluice
   * among them) report a failed job with those.
   */
  private static final Set<String> TRANSIENT = Set.of("transient", "timeout", "throttled", "lock-error");
  private static final ObjectMapper JSON = new ObjectMapper();

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
    int errors = 0;
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
      String progress;
      if (code == 202) {
        errors = 0;
        progress = response.headers().firstValue("X-Progress").orElse("in progress");
      } else if (code >= 500 && ++errors < MAX_SERVER_ERRORS && !saysTheJobFailed(response.body())) {
        progress = ServerAnswer.describe(code, response.body()) + ", polling again";
      } else {
        display.finish();
        throw new PullFailed("the export at " + status + " failed: " + ServerAnswer.describe(code, response.body()));
      }
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

  /** Whether an error answer is an OperationOutcome with an error issue that is not transient. */
  private static boolean saysTheJobFailed(String body) {
    JsonNode root;
    try {
      root = JSON.readTree(body);
    } catch (IOException e) {
      return false;
    }
    if (root == null || !"OperationOutcome".equals(root.path("resourceType").asText())) {
      return false;
    }
    for (JsonNode issue : root.path("issue")) {
      String severity = issue.path("severity").asText("error");
      if ((severity.equals("error") || severity.equals("fatal")) && !TRANSIENT.contains(issue.path("code").asText())) {
        return true;
      }
    }
    return false;
  }

  private static String line(String progress, long start) {
    return "export: " + progress + ", " + ProgressDisplay.duration((System.nanoTime() - start) / 1e9) + " elapsed";
  }
}

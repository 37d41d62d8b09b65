package dev.sluice.pull;

import dev.sluice.client.Credentials;
import dev.sluice.client.NoAnswer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.Set;

/**
 * Requests to an export server and to where its files lie: the token added where it may go,
 * redirects followed by hand (so the token never goes to another origin, a signed blob URL),
 * and requests tried again after 429, 502, 503, 504 or no answer, after the pause the server's
 * {@code Retry-After} asks for, else a doubling one; once more with a new token after a 401.
 */
final class ServerCalls {
  /** Answers that mean "later", not "no". */
  private static final Set<Integer> BUSY = Set.of(429, 502, 503, 504);
  private static final int MAX_REDIRECTS = 5;
  private static final Duration FIRST_PAUSE = Duration.ofSeconds(1);
  private static final Duration MAX_PAUSE = Duration.ofMinutes(2);

  private final HttpClient http;
  private final Credentials credentials;
  private final Clock clock;
  private final int attempts;

  /**
   * @param http a client that does not follow redirects itself
   * @param attempts how many times a request is sent before a busy answer or no answer is final
   */
  ServerCalls(HttpClient http, Credentials credentials, Clock clock, int attempts) {
    this.http = http;
    this.credentials = credentials;
    this.clock = clock;
    this.attempts = attempts;
  }

  /**
   * Sends the request; the token goes with it when {@code withToken}, to the request's own
   * origin only. The answer returned may still be busy when every attempt was.
   */
  <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body, boolean withToken)
      throws IOException, InterruptedException {
    Duration pause = FIRST_PAUSE;
    boolean renewed = false;
    IOException unanswered = null;
    for (int attempt = 1; attempt <= attempts; attempt++) {
      HttpResponse<T> response;
      try {
        response = follow(request, body, withToken);
      } catch (IOException e) {
        unanswered = e;
        if (attempt < attempts) {
          Thread.sleep(pause.toMillis());
          pause = longer(pause);
        }
        continue;
      }
      int status = response.statusCode();
      if (status == 401 && withToken && !renewed) {
        discard(response);
        credentials.rejected();
        renewed = true;
        attempt--;
        continue;
      }
      if (!BUSY.contains(status) || attempt == attempts) {
        return response;
      }
      Duration wait = retryAfter(response).orElse(pause);
      discard(response);
      Thread.sleep(Math.min(wait.toMillis(), MAX_PAUSE.toMillis()));
      pause = longer(pause);
    }
    throw new IOException("no answer from " + request.uri() + " after " + attempts + " attempts: "
        + NoAnswer.describe(unanswered), unanswered);
  }

  private <T> HttpResponse<T> follow(HttpRequest request, HttpResponse.BodyHandler<T> body, boolean withToken)
      throws IOException, InterruptedException {
    URI origin = request.uri();
    HttpRequest current = request;
    for (int hop = 0; ; hop++) {
      HttpRequest.Builder b = HttpRequest.newBuilder(current, (name, value) -> !name.equalsIgnoreCase("Authorization"));
      if (withToken && sameOrigin(current.uri(), origin)) {
        credentials.authorization().ifPresent(value -> b.header("Authorization", value));
      }
      HttpResponse<T> response = http.send(b.build(), body);
      int status = response.statusCode();
      Optional<String> location = response.headers().firstValue("Location");
      if (!(status == 301 || status == 302 || status == 303 || status == 307 || status == 308) || location.isEmpty()) {
        return response;
      }
      discard(response);
      if (hop == MAX_REDIRECTS) {
        throw new IOException(request.uri() + " redirected more than " + MAX_REDIRECTS + " times");
      }
      URI next = current.uri().resolve(location.get());
      HttpRequest.Builder redirected = HttpRequest.newBuilder(current, (name, value) -> true).uri(next);
      if (status == 303) {
        redirected.GET();
      }
      current = redirected.build();
    }
  }

  static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme()) && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() != -1 ? u.getPort() : "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  /** {@code Retry-After} in seconds or as an HTTP date. */
  Optional<Duration> retryAfter(HttpResponse<?> response) {
    Optional<String> value = response.headers().firstValue("Retry-After").map(String::strip);
    if (value.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(value.get()))));
    } catch (NumberFormatException e) {
      try {
        ZonedDateTime at = ZonedDateTime.parse(value.get(), DateTimeFormatter.RFC_1123_DATE_TIME);
        Duration wait = Duration.between(clock.instant(), at.toInstant());
        return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
      } catch (DateTimeParseException notADate) {
        return Optional.empty();
      }
    }
  }

  private static Duration longer(Duration pause) {
    Duration doubled = pause.multipliedBy(2);
    return doubled.compareTo(MAX_PAUSE) > 0 ? MAX_PAUSE : doubled;
  }

  /** A streamed body not read must still be closed, or its connection is never reused. */
  static void discard(HttpResponse<?> response) {
    if (response.body() instanceof InputStream in) {
      try {
        in.close();
      } catch (IOException e) {
        // the connection is dropped instead of reused
      }
    }
  }
}

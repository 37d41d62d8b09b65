package dev.sluice.export;

import java.time.Duration;

/**
 * How long exports wait out an unreachable output store: up to {@code attempts} tries of a
 * planning or a part, the n-th retry after {@code first * 2^(n-1)}, at most {@code max}.
 * With the defaults (10, 1 s, 30 s) an outage of about two and a half minutes is ridden out
 * (docs/export.md).
 */
public record StoreRetry(int attempts, Duration first, Duration max) {
  public StoreRetry {
    if (attempts < 1) {
      throw new IllegalArgumentException("store retry attempts must be at least 1, got " + attempts);
    }
  }

  /** The wait before attempt {@code failures + 1}, after {@code failures} failed ones (1 or more). */
  Duration backoff(int failures) {
    Duration d = first.multipliedBy(1L << Math.min(20, Math.max(0, failures - 1)));
    return d.compareTo(max) > 0 ? max : d;
  }

  /** Whether a job whose planning or part found the store unreachable {@code failures} times gives up. */
  boolean exhausted(int failures) {
    return failures >= attempts;
  }

  /** The whole wait before giving up, for messages. */
  Duration patience() {
    Duration total = Duration.ZERO;
    for (int i = 1; i < attempts; i++) {
      total = total.plus(backoff(i));
    }
    return total;
  }
}

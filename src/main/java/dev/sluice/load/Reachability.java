package dev.sluice.load;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Whether the server still answers, seen by every request of a load: how long every attempt
 * has failed to get an answer (connection refused, reset, timed out). Once that lasts longer
 * than the limit, the load gives up for good, instead of trying each remaining batch.
 */
final class Reachability {
  private final long limitNanos;
  /** When the current run of failures began; 0 while the last attempt got an answer. */
  private final AtomicLong failingSince = new AtomicLong();
  private final AtomicBoolean gaveUp = new AtomicBoolean();

  Reachability(Duration limit) {
    this.limitNanos = limit.toNanos();
  }

  void answered() {
    if (!gaveUp.get()) {
      failingSince.set(0);
    }
  }

  /** Records a failed attempt; true when the server has now been unreachable past the limit. */
  boolean failed() {
    long now = System.nanoTime();
    long since = failingSince.updateAndGet(s -> s == 0 ? now : s);
    if (now - since >= limitNanos) {
      gaveUp.set(true);
    }
    return gaveUp.get();
  }

  /** How much longer the current run of failures may last before the load gives up. */
  Duration left() {
    long since = failingSince.get();
    return since == 0 ? Duration.ofNanos(limitNanos)
        : Duration.ofNanos(Math.max(0, limitNanos - (System.nanoTime() - since)));
  }

  boolean gaveUp() {
    return gaveUp.get();
  }
}

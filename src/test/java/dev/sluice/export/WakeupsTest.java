package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class WakeupsTest {
  @Test
  void a_wake_between_looking_for_work_and_idling_is_not_lost() throws Exception {
    Wakeups wakeups = new Wakeups();
    long seen = wakeups.seen();
    // a job queued while the loop was still looking: the loop must not then sleep a whole poll
    wakeups.wake();
    long started = System.nanoTime();
    wakeups.idle(Duration.ofSeconds(30), seen);
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void without_a_wake_idle_waits_its_time() throws Exception {
    Wakeups wakeups = new Wakeups();
    long started = System.nanoTime();
    wakeups.idle(Duration.ofMillis(200), wakeups.seen());
    assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThanOrEqualTo(Duration.ofMillis(200));
  }
}

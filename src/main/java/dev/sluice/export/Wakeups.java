package dev.sluice.export;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wakes idle loops when there is work. A loop notes {@link #seen} before it looks for work and
 * idles only if no wake came since: a wake that arrives while it is still looking (a job
 * queued or planned during its claim) is not lost to a whole poll interval. Export and import
 * workers both idle on one.
 */
public final class Wakeups {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long wakes;

  /** The wakes so far, to pass to {@link #idle}. */
  public long seen() {
    lock.lock();
    try {
      return wakes;
    } finally {
      lock.unlock();
    }
  }

  public void wake() {
    lock.lock();
    try {
      wakes++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Waits up to {@code d}, or not at all when a wake came after {@code seen}. */
  public void idle(Duration d, long seen) throws InterruptedException {
    lock.lock();
    try {
      long left = d.toNanos();
      while (wakes == seen && left > 0) {
        left = changed.awaitNanos(left);
      }
    } finally {
      lock.unlock();
    }
  }
}

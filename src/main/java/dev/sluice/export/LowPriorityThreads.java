package dev.sluice.export;

import dev.sluice.store.Niceness;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Platform threads, named {@code prefix<n>}, that lower themselves to a niceness before their task
 * runs: the export's loops, whose reading of COPY data and writing of files takes as much CPU in
 * the JVM as the COPY takes in PostgreSQL (bench/README.md, "Search latency during exports").
 * Virtual threads share their carriers with the API's requests, and Java's thread priorities do
 * nothing on Linux; a Linux thread's own nice value does. A thread that cannot be lowered runs
 * as it is.
 */
public final class LowPriorityThreads implements ThreadFactory {
  private static final Logger log = LoggerFactory.getLogger(LowPriorityThreads.class);

  private final String prefix;
  private final Niceness niceness;
  private final AtomicInteger count = new AtomicInteger();
  /** One WARN when lowering fails, not one per thread. */
  private final AtomicBoolean warned = new AtomicBoolean();

  public LowPriorityThreads(String prefix, Niceness niceness) {
    this.prefix = prefix;
    this.niceness = niceness;
  }

  @Override
  public Thread newThread(Runnable task) {
    return Thread.ofPlatform().name(prefix + count.getAndIncrement()).unstarted(() -> {
      lowerThisThread();
      task.run();
    });
  }

  private void lowerThisThread() {
    if (niceness.value() == 0) {
      return;
    }
    String why;
    try {
      // "<pid>/task/<tid>": the Linux id of the calling thread
      Path self = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      why = niceness.apply(Long.parseLong(self.getFileName().toString())).orElse(null);
    } catch (IOException | UnsupportedOperationException | NumberFormatException e) {
      why = "no /proc/thread-self: " + e;
    }
    if (why != null && warned.compareAndSet(false, true)) {
      log.warn("Export threads keep the API's CPU priority: lowering {} to niceness {} failed ({})",
          Thread.currentThread().getName(), niceness.value(), why);
    }
  }
}

package dev.sluice.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A lower CPU priority for a process or thread of this machine (Linux nice, 0 to 19): export work
 * runs at it, so that on a machine with few cores the API's queries get the CPU first while an
 * export keeps whatever is left (bench/README.md, "Search latency during exports").
 */
public record Niceness(int value) {
  private static final long RENICE_WAIT_SECONDS = 5;

  public Niceness {
    if (value < 0 || value > 19) {
      throw new IllegalArgumentException("a niceness is between 0 and 19, got " + value);
    }
  }

  /**
   * Sets process or thread {@code id} (a Linux thread id lowers that thread alone) to this
   * niceness with {@code renice -n}: absolute in util-linux 2.38 and later, an increment before;
   * from 0, where a new PostgreSQL backend or thread of a server started at 0 is, both agree.
   *
   * @return empty when done, else why not (the process or thread is then left as it was)
   */
  public Optional<String> apply(long id) {
    try {
      Process p = new ProcessBuilder("renice", "-n", Integer.toString(value), "-p", Long.toString(id))
          .redirectErrorStream(true).start();
      String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(RENICE_WAIT_SECONDS, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return Optional.of("renice did not end within " + RENICE_WAIT_SECONDS + " s");
      }
      return p.exitValue() == 0 ? Optional.empty() : Optional.of("renice exited with " + p.exitValue() + ": " + output);
    } catch (IOException e) {
      return Optional.of("renice could not run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while renice ran");
    }
  }
}

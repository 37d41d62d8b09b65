package dev.sluice.imports;

import java.time.Duration;

/**
 * How import jobs run.
 *
 * @param workers parts imported at once by this process
 * @param lease how long a claimed part stays this process's without a checkpoint
 * @param poll how often idle workers look for parts
 * @param batchLines lines written per transaction (and per checkpoint)
 * @param batchBytes bytes of lines written per transaction, at most
 * @param requireAsyncHeaders whether kick-off needs {@code Accept} and {@code Prefer: respond-async}
 * @param retention how long a job stays after it completed or failed, with its error files (as an export's files)
 * @param sweep how often a worker removes expired jobs
 */
public record ImportSettings(int workers, Duration lease, Duration poll, int batchLines, long batchBytes,
    boolean requireAsyncHeaders, Duration retention, Duration sweep) {
  public static ImportSettings defaults(int workers, Duration lease, boolean requireAsyncHeaders, Duration retention) {
    return new ImportSettings(workers, lease, Duration.ofMillis(250), 1000, 8L * 1024 * 1024, requireAsyncHeaders,
        retention, Duration.ofSeconds(5));
  }
}

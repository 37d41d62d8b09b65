package dev.sluice.export;

import java.time.Duration;

/**
 * The limits and timings of exports, from the configuration (see docs/config.md).
 *
 * @param maxFileBytes a file is closed and the next one opened past this many bytes
 * @param maxFileResources ... or past this many resources, whichever comes first
 * @param partResources about how many resources one part (one type, one pk range) covers
 * @param workers parts exported at once by this process
 * @param maxRunningJobs jobs running at once across all processes; later ones queue
 * @param lease how long a claimed part or a planning job stays claimed without renewal
 * @param renewEvery how often a worker renews its lease and checks for cancellation
 * @param retention how long files stay after a job ends ({@code Expires})
 * @param poll how often idle workers look for work
 * @param writeBufferBytes buffer of each open output file
 * @param maxAttempts a part (or a planning) that fails this many times fails its job
 * @param storeRetry how long planning and parts wait out an unreachable output store
 * @param requireAsyncHeaders whether kick-off requires {@code Accept} and {@code Prefer: respond-async}
 */
public record ExportSettings(
    long maxFileBytes,
    long maxFileResources,
    long partResources,
    int workers,
    int maxRunningJobs,
    Duration lease,
    Duration renewEvery,
    Duration retention,
    Duration poll,
    int writeBufferBytes,
    int maxAttempts,
    StoreRetry storeRetry,
    boolean requireAsyncHeaders) {}

package dev.sluice.store;

import java.time.Instant;
import java.util.UUID;

/** One row of {@code export_job}. */
public record ExportJobRow(
    UUID id,
    String client,
    String requestKey,
    String requestUrl,
    String requestJson,
    String status,
    Instant transactionTime,
    String waitXids,
    String container,
    Instant createdAt,
    Instant finishedAt,
    Instant expiresAt,
    Integer errorStatus,
    String errorText) {

  public static final String QUEUED = "queued";
  public static final String RUNNING = "running";
  public static final String COMPLETED = "completed";
  public static final String FAILED = "failed";
  public static final String CANCELLED = "cancelled";

  public boolean active() {
    return status.equals(QUEUED) || status.equals(RUNNING);
  }
}

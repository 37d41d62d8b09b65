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
    ExportJobStatus status,
    Instant transactionTime,
    String waitXids,
    String container,
    Instant createdAt,
    Instant finishedAt,
    Instant expiresAt,
    Integer errorStatus,
    String errorText,
    String errorCode,
    int planAttempts) {

  /** A job as kick-off queues it: nothing has happened to it yet. */
  public static ExportJobRow queued(UUID id, String client, String requestKey, String requestUrl, String requestJson,
      Instant transactionTime, String waitXids, String container) {
    return new ExportJobRow(id, client, requestKey, requestUrl, requestJson, ExportJobStatus.QUEUED, transactionTime,
        waitXids, container, null, null, null, null, null, null, 0);
  }

  public boolean active() {
    return status.active();
  }
}

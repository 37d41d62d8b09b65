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
    String errorText) {

  public boolean active() {
    return status.active();
  }
}

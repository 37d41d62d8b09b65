package dev.sluice.export;

import dev.sluice.fhir.Issue;
import java.time.Duration;
import java.time.Instant;

/** What a client polling an export is told: the states a visible job can be in. */
public sealed interface ExportStatus {
  /** Waits for the transactions in progress at kick-off, or for running exports to end. */
  record Queued(Duration retryAfter) implements ExportStatus {}

  /** Parts done of all parts, and the resources the parts done wrote. */
  record Running(long partsDone, long parts, long resources, Duration retryAfter) implements ExportStatus {
    public long percent() {
      return parts == 0 ? 0 : partsDone * 100 / parts;
    }
  }

  /**
   * A running job whose client allowed partial manifests: its progress, and a page of the
   * manifest with the files done so far (a page never changes; more come through its next link).
   */
  record Partial(Running progress, byte[] manifest) implements ExportStatus {}

  /** The manifest (JSON) and when the files go. */
  record Completed(byte[] manifest, Instant expires) implements ExportStatus {}

  /** The HTTP status and the issue that say why. */
  record Failed(int status, Issue issue) implements ExportStatus {}
}

package dev.sluice.export;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * One page of the list of export jobs, newest first, and the cursor of the next page.
 *
 * @param next the cursor of the next page; empty on the last page
 */
public record ExportJobList(List<Job> jobs, Optional<String> next) {
  /**
   * One job as the list shows it.
   *
   * @param status queued, running, completed, failed or cancelled
   * @param level system, patient or group
   * @param expires when its files go; null until it ends
   * @param error why it failed; null unless it did
   */
  public record Job(UUID id, String status, String level, String request, long partsDone, long parts, long resources,
      Instant created, Instant expires, String error) {}

  /** Where a page starts: after the job created at {@code created} with {@code id}. */
  record Cursor(Instant created, UUID id) {
    String encode() {
      return Base64.getUrlEncoder().withoutPadding()
          .encodeToString((created + "_" + id).getBytes(StandardCharsets.UTF_8));
    }

    /** Empty when the text is no cursor this server made. */
    static Optional<Cursor> decode(String text) {
      try {
        String s = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8);
        int cut = s.indexOf('_');
        return Optional.of(new Cursor(Instant.parse(s.substring(0, cut)), UUID.fromString(s.substring(cut + 1))));
      } catch (RuntimeException e) {
        return Optional.empty();
      }
    }
  }
}

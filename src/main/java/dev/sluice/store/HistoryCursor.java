package dev.sluice.store;

import java.time.Instant;
import java.util.Base64;
import java.nio.charset.StandardCharsets;

/**
 * Where a history page ends: history is ordered newest first by (last_updated, pk, version),
 * and the next page starts strictly after this key, so pages never repeat or skip a version.
 */
public record HistoryCursor(Instant lastUpdated, long pk, int version) {

  public String encode() {
    String raw = lastUpdated.toEpochMilli() + ":" + pk + ":" + version;
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** @throws IllegalArgumentException when the token was not made by {@link #encode()} */
  public static HistoryCursor decode(String token) {
    String raw = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
    String[] parts = raw.split(":");
    if (parts.length != 3) {
      throw new IllegalArgumentException("malformed history cursor");
    }
    return new HistoryCursor(
        Instant.ofEpochMilli(Long.parseLong(parts[0])), Long.parseLong(parts[1]), Integer.parseInt(parts[2]));
  }
}

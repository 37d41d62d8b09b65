package dev.sluice.store;

import java.util.Map;

/**
 * The mean stored size of a resource, per type, as estimated from a sample: what reading a part
 * costs follows its bytes more than its rows (in Synthea's data an ExplanationOfBenefit holds
 * 5.5 kB, an Observation 0.8 kB), so the small types of a Group's export are shared out by it
 * ({@code export.SharedParts}). An estimate guides the cut only; no count depends on it.
 *
 * @param meanBytes per type sampled; a type not sampled weighs as the mean of those that were
 */
public record TypeSizes(Map<String, Long> meanBytes) {
  public TypeSizes {
    meanBytes = Map.copyOf(meanBytes);
  }

  /** No sample: every resource weighs the same, and parts are cut by rows. */
  public static TypeSizes unknown() {
    return new TypeSizes(Map.of());
  }

  /** The estimated bytes of {@code count} resources of {@code type}. */
  public long bytes(String type, long count) {
    if (meanBytes.isEmpty()) {
      return count;
    }
    Long mean = meanBytes.get(type);
    if (mean == null) {
      mean = Math.round(meanBytes.values().stream().mapToLong(Long::longValue).average().orElse(1));
    }
    return count * Math.max(1, mean);
  }
}

package dev.sluice.export;

import java.util.Optional;

/**
 * The values of {@code includeAssociatedData} that Sluice serves: Azure's {@code _history}
 * (every earlier version too) and {@code _deleted} (deleted resources, tagged with Azure's
 * soft-delete marker). The guide's {@code LatestProvenanceResources} and
 * {@code RelevantProvenanceResources} are not served (400, or ignored under lenient handling).
 */
public enum AssociatedData {
  HISTORY("_history"),
  DELETED("_deleted");

  private final String code;

  AssociatedData(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }

  public static Optional<AssociatedData> of(String code) {
    for (AssociatedData a : values()) {
      if (a.code.equals(code)) {
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }
}

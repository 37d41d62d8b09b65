package dev.sluice.export;

import java.util.Optional;

/**
 * The values of {@code includeAssociatedData} that Sluice serves, at every level: Azure's
 * {@code _history} (every earlier version too) and {@code _deleted} (deleted resources, tagged
 * with Azure's soft-delete marker), and the guide's {@code LatestProvenanceResources} and
 * {@code RelevantProvenanceResources} (the Provenance of the exported resources; how Sluice
 * reads the guide is on {@link dev.sluice.store.ProvenanceScan}). Any other value is 400, or
 * ignored under lenient handling.
 */
public enum AssociatedData {
  HISTORY("_history"),
  DELETED("_deleted"),
  LATEST_PROVENANCE("LatestProvenanceResources"),
  RELEVANT_PROVENANCE("RelevantProvenanceResources");

  private final String code;

  AssociatedData(String code) {
    this.code = code;
  }

  public String code() {
    return code;
  }

  /** True for the values that add versions of the exported resources, not other resources. */
  public boolean versions() {
    return this == HISTORY || this == DELETED;
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

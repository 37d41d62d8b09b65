package dev.sluice.export;

import java.util.Objects;

/**
 * How the client asked to be answered, recorded with the job so every status call of any
 * process answers alike.
 *
 * @param lenient {@code Prefer: handling=lenient}: what cannot be applied is left out and reported
 * @param separateStatus {@code Prefer: separate-export-status}: a status call's own HTTP code is
 *     that of the call, the job's goes in {@code X-Export-Status}
 * @param manifest the form of the manifest
 * @param partialManifests {@code allowPartialManifests=true}: a running job's status shows the
 *     files done so far in pages that never change, linked by {@code next}
 */
public record Preferences(boolean lenient, boolean separateStatus, ManifestVersion manifest, boolean partialManifests) {
  public Preferences {
    Objects.requireNonNull(manifest, "manifest");
  }

  public static Preferences defaults() {
    return new Preferences(false, false, ManifestVersion.STU3, false);
  }

  public Preferences withPartialManifests(boolean allowed) {
    return new Preferences(lenient, separateStatus, manifest, allowed);
  }

  /** The manifest's form: STU3's (also STU2's), or STU4's ballot one. */
  public enum ManifestVersion {
    /** {@code error} for the OperationOutcome files. */
    STU3,
    /** {@code outcome} instead of {@code error}, with {@code manifestType} and {@code outputFormat}. */
    STU4
  }
}

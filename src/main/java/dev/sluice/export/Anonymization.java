package dev.sluice.export;

import java.util.List;
import java.util.Objects;

/**
 * The de-identification an export applies: {@code _anonymizationConfig}, the file in the store's
 * {@code anonymization} container, and {@code _anonymizationConfigEtag}.
 *
 * @param config the file name
 * @param etag the ETag the file must have, or null
 * @param sha256 lowercase hex SHA-256 of the bytes read and validated at kick-off (what the
 *     manifest reports); null before that
 * @param applied SHA-256 of the configuration the job applies: {@code sha256}, or, when the file
 *     leaves keys empty, that of the copy the kick-off completed with keys chosen for this job
 * @param randomKeys the names of the keys chosen at kick-off, for the job's notes
 */
public record Anonymization(String config, String etag, String sha256, String applied, List<String> randomKeys) {
  public Anonymization {
    Objects.requireNonNull(config, "config");
    randomKeys = List.copyOf(randomKeys);
  }

  /** As asked at kick-off, before the file is read. */
  public static Anonymization asked(String config, String etag) {
    return new Anonymization(config, etag, null, null, List.of());
  }

  /** Read and validated, its keys complete. */
  Anonymization resolved(String digest, String appliedDigest, List<String> chosenKeys) {
    return new Anonymization(config, etag, digest, appliedDigest, chosenKeys);
  }
}

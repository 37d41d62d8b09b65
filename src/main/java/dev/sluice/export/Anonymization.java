package dev.sluice.export;

import java.util.Objects;

/**
 * The de-identification an export applies: {@code _anonymizationConfig}, the file in the store's
 * {@code anonymization} container, and {@code _anonymizationConfigEtag}.
 *
 * @param config the file name
 * @param etag the ETag the file must have, or null
 * @param sha256 lowercase hex SHA-256 of the bytes read and validated at kick-off; null before that
 */
public record Anonymization(String config, String etag, String sha256) {
  public Anonymization {
    Objects.requireNonNull(config, "config");
  }

  Anonymization resolved(String digest) {
    return new Anonymization(config, etag, digest);
  }
}

package dev.sluice.export;

/** What reading a de-identification configuration from the store found. */
public sealed interface ConfigRead {
  /** The bytes and the ETag they were read with. */
  record Found(byte[] bytes, String etag) implements ConfigRead {}

  /** @param place where it was looked for, in words: a local path, or a container of a remote store */
  record Missing(String place) implements ConfigRead {}

  /** {@code _anonymizationConfigEtag} does not match the file's ETag. */
  record Changed() implements ConfigRead {}

  record TooLarge(long bytes) implements ConfigRead {}
}

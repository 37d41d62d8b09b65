package dev.sluice.store;

import dev.sluice.fhir.Sha256;
import java.nio.charset.StandardCharsets;

/**
 * A text value as the B-tree indexes of the search index hold it. PostgreSQL refuses an index
 * entry over about 2.7 kB, which failed the write of a resource with a token code, URI or
 * reference URL of a few kB (and, in a batch written in bulk, the batch). A value of at most
 * {@link #MAX_BYTES} is kept as it is; a longer one becomes its first bytes and the SHA-256 of
 * the whole value. Index rows and search values go through the same function, so equality
 * stays exact: a search for a long value finds that value and no other that shares its start.
 */
final class IndexValue {
  /** UTF-8 bytes kept as they are: two such values (a token's system and code) fit in one index entry. */
  static final int MAX_BYTES = 1024;
  private static final String HASH_MARK = "#sha256=";
  /** The start kept of a longer value: with the mark and 64 hex digits, at most MAX_BYTES. */
  private static final int PREFIX_BYTES = MAX_BYTES - HASH_MARK.length() - 64;

  private IndexValue() {}

  /** {@code value} itself when short enough (nearly always), else its start and its hash; null stays null. */
  static String of(String value) {
    // a char is at most 3 UTF-8 bytes (a surrogate pair 4 for two chars)
    if (value == null || value.length() * 3 <= MAX_BYTES) {
      return value;
    }
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    if (utf8.length <= MAX_BYTES) {
      return value;
    }
    return prefix(value) + HASH_MARK + Sha256.hex(utf8);
  }

  /** The longest start of {@code value} of at most PREFIX_BYTES in UTF-8, not splitting a surrogate pair. */
  private static String prefix(String value) {
    int bytes = 0;
    int i = 0;
    while (i < value.length()) {
      int cp = value.codePointAt(i);
      int n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + n > PREFIX_BYTES) {
        break;
      }
      bytes += n;
      i += Character.charCount(cp);
    }
    return value.substring(0, i);
  }
}

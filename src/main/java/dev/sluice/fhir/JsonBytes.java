package dev.sluice.fhir;

/**
 * JSON read as bytes, for the scans that find where elements begin and end without a
 * tokenizer (the stored form's stamp, the loader's line check): the parts they share.
 */
public final class JsonBytes {
  private JsonBytes() {}

  /** Just past the closing quote of the string opening at {@code at}; -1 when it does not close. */
  public static int stringEnd(byte[] json, int at) {
    for (int i = at + 1; i < json.length; i++) {
      if (json[i] == '\\') {
        i++;
      } else if (json[i] == '"') {
        return i + 1;
      }
    }
    return -1;
  }

  /**
   * True when the string from the quote at {@code at} to just before {@code end} holds exactly
   * {@code ascii}, unescaped.
   */
  public static boolean stringIs(byte[] json, int at, int end, String ascii) {
    int length = end - at - 2;
    if (length != ascii.length()) {
      return false;
    }
    for (int i = 0; i < length; i++) {
      if (json[at + 1 + i] != ascii.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  /** True when a backslash stands between {@code from} and {@code to}: the text there is escaped. */
  public static boolean hasEscape(byte[] json, int from, int to) {
    for (int i = from; i < to; i++) {
      if (json[i] == '\\') {
        return true;
      }
    }
    return false;
  }
}

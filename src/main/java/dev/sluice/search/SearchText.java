package dev.sluice.search;

import java.text.Normalizer;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The form string parameters are matched in: lower case without accents, as FHIR's string
 * search asks ("case- and accent-insensitive"). Index and query use the same function.
 */
public final class SearchText {
  private static final Pattern MARKS = Pattern.compile("\\p{M}+");
  /** Longer values are cut so that they fit in a btree entry; matches beyond it are prefix matches. */
  public static final int MAX_LENGTH = 500;

  private SearchText() {}

  public static String normalize(String s) {
    String n = s;
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) > 0x7f) {
        n = MARKS.matcher(Normalizer.normalize(s, Normalizer.Form.NFD)).replaceAll("");
        break;
      }
    }
    n = n.toLowerCase(Locale.ROOT);
    return n.length() > MAX_LENGTH ? n.substring(0, MAX_LENGTH) : n;
  }
}

package dev.sluice.search;

import java.util.ArrayList;
import java.util.List;

/** FHIR search value escaping: {@code \,} {@code \|} {@code \$} and {@code \\} stand for the character itself. */
final class Escaping {
  private Escaping() {}

  /** Splits on unescaped {@code separator}, keeping other escapes for a later split. */
  static List<String> split(String value, char separator) {
    List<String> parts = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\' && i + 1 < value.length()) {
        current.append(c).append(value.charAt(++i));
      } else if (c == separator) {
        parts.add(current.toString());
        current.setLength(0);
      } else {
        current.append(c);
      }
    }
    parts.add(current.toString());
    return parts;
  }

  static String unescape(String value) {
    if (value.indexOf('\\') < 0) {
      return value;
    }
    StringBuilder sb = new StringBuilder(value.length());
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\' && i + 1 < value.length()) {
        sb.append(value.charAt(++i));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}

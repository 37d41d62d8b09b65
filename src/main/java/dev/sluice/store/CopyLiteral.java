package dev.sluice.store;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.UUID;

/**
 * SQL literals for COPY, which takes no bind parameters. Client text reaches here: the values
 * of an export's {@code _typeFilter} searches (codes, strings, references) are inlined into the
 * part's COPY. Strings are therefore always E'' literals with every backslash and quote doubled,
 * which mean the same whatever standard_conforming_strings says and cannot end early; a {@code ?}
 * or {@code $$} inside a value is plain text in them (values are appended, never scanned again).
 * NUL, which PostgreSQL text cannot hold, is refused by the search parser with a 400 before a job
 * exists (ExportTypeFilterLiteralTest); here it is a programming error.
 */
final class CopyLiteral {
  private CopyLiteral() {}

  static String of(Object value) {
    return switch (value) {
      case null -> "null";
      case Long l -> l.toString();
      case Integer i -> i.toString();
      case java.math.BigDecimal d -> d.toPlainString();
      case Double d when Double.isFinite(d) -> d.toString();
      case Boolean b -> b.toString();
      case Instant t -> "'" + t + "'::timestamptz";
      case Timestamp t -> "'" + t.toInstant() + "'::timestamptz";
      case java.time.OffsetDateTime t -> "'" + t.toInstant() + "'::timestamptz";
      case UUID u -> "'" + u + "'::uuid";
      case String s -> string(s);
      case String[] a -> array(a);
      default -> throw new IllegalArgumentException("no COPY literal for " + value.getClass().getName());
    };
  }

  private static String string(String s) {
    if (s.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a string with NUL cannot be a SQL literal");
    }
    return "E'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  private static String array(String[] values) {
    StringBuilder b = new StringBuilder("array[");
    for (int i = 0; i < values.length; i++) {
      b.append(i == 0 ? "" : ",").append(string(values[i]));
    }
    return b.append("]::text[]").toString();
  }

  /** Replaces each {@code ?} outside quotes by the literal of the next parameter. */
  static String inline(String sql, java.util.List<Object> params) {
    StringBuilder b = new StringBuilder(sql.length() + 16 * params.size());
    int next = 0;
    boolean quoted = false;
    for (int i = 0; i < sql.length(); i++) {
      char ch = sql.charAt(i);
      if (ch == '\'') {
        quoted = !quoted;
      }
      if (ch == '?' && !quoted) {
        if (next >= params.size()) {
          throw new IllegalArgumentException("more ? than parameters in a condition");
        }
        b.append(of(params.get(next++)));
      } else {
        b.append(ch);
      }
    }
    if (next != params.size()) {
      throw new IllegalArgumentException("fewer ? than parameters in a condition");
    }
    return b.toString();
  }
}

package dev.sluice.store;

import java.math.BigDecimal;
import java.time.Instant;

/** One row of the search index, one record per index table; {@code grp} is 0 outside composites. */
sealed interface IndexRow {
  int key();

  /**
   * @param system as {@link IndexValue} holds it, like {@code code}
   * @param display the text {@code :text} matches on ({@code SearchText.normalize}d), or null.
   *     A row with only a display (null system and code) is under the parameter's text key.
   */
  record Token(int key, int grp, String system, String code, String display) implements IndexRow {
    public Token {
      system = IndexValue.of(system);
      code = IndexValue.of(code);
    }

    Token(int key, int grp, String system, String code) {
      this(key, grp, system, code, null);
    }
  }

  record Str(int key, int grp, String norm, String exact) implements IndexRow {}

  record Date(int key, int grp, Instant lo, Instant hi) implements IndexRow {
    /** PostgreSQL's text for a bound of the range: the open ends are -infinity and infinity. */
    static String text(Instant t) {
      return t.equals(Instant.MIN) ? "-infinity" : t.equals(Instant.MAX) ? "infinity" : t.toString();
    }
  }

  record Num(int key, int grp, BigDecimal value) implements IndexRow {}

  record Qty(int key, int grp, BigDecimal value, String system, String code, String unit) implements IndexRow {}

  /** {@code url} as {@link IndexValue} holds it. */
  record Ref(int key, int grp, String targetType, String targetId, String url) implements IndexRow {
    public Ref {
      url = IndexValue.of(url);
    }
  }

  record Uri(int key, int grp, String uri) implements IndexRow {
    public Uri {
      uri = IndexValue.of(uri);
    }
  }
}

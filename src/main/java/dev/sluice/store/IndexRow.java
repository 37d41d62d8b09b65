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
    private static final Instant YEAR_1 = Instant.parse("0001-01-01T00:00:00Z");
    private static final Instant YEAR_10000 = Instant.parse("+10000-01-01T00:00:00Z");

    /**
     * PostgreSQL's text for a bound of the range: the open ends are -infinity and infinity. A
     * FHIR year has four digits, but a time zone moves an instant out of them
     * ({@code 0001-01-01T00:00:00+14:00} is in the year 0, {@code 9999-12-31T23:59:59-14:00} in
     * 10000), and HAPI takes the year 0000 too: PostgreSQL reads the year before 1 as 1 BC and a
     * year past 9999 without the sign that {@link Instant#toString} gives it.
     */
    static String text(Instant t) {
      if (t.equals(Instant.MIN)) {
        return "-infinity";
      }
      if (t.equals(Instant.MAX)) {
        return "infinity";
      }
      String iso = t.toString();
      // every index row of a date passes here: two comparisons, not a date-time, for the usual years
      if (!t.isBefore(YEAR_1) && t.isBefore(YEAR_10000)) {
        return iso;
      }
      int year = t.atOffset(java.time.ZoneOffset.UTC).getYear();
      String afterYear = iso.substring(iso.indexOf('-', 1));
      return year < 1 ? String.format("%04d", 1 - year) + afterYear + " BC" : year + afterYear;
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

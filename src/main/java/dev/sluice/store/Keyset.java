package dev.sluice.store;

import dev.sluice.search.SearchQuery;
import java.util.ArrayList;
import java.util.List;

/**
 * The ORDER BY and the "after this row" condition of keyset paging over the sort keys
 * {@code x.s0, x.s1, ...} and then {@code x.pk}. Missing sort values come last in either
 * direction; a previous page is read in the reverse order.
 */
final class Keyset {
  private Keyset() {}

  static String order(List<SearchQuery.SortKey> sort, boolean backward) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < sort.size(); i++) {
      boolean descending = sort.get(i).descending() != backward;
      parts.add("x.s" + i + (descending ? " desc" : " asc") + (backward ? " nulls first" : " nulls last"));
    }
    parts.add("x.pk" + (backward ? " desc" : " asc"));
    return String.join(", ", parts);
  }

  /** Rows strictly after (or before) the cursor's row in the order of {@link #order}. */
  static String condition(List<SearchQuery.SortKey> sort, SearchCursor cursor, List<Object> args) {
    List<String> alternatives = new ArrayList<>();
    List<String> equal = new ArrayList<>();
    for (int i = 0; i < sort.size(); i++) {
      String col = "x.s" + i;
      String value = cursor.sortValues().get(i);
      String cast = ResourceSearch.cast(sort.get(i));
      boolean descending = sort.get(i).descending();
      String beyond;
      if (value == null) {
        // null sorts last: nothing lies after it at this level, everything non-null lies before it
        beyond = cursor.before() ? col + " is not null" : null;
      } else {
        String op = descending != cursor.before() ? " < " : " > ";
        beyond = cursor.before()
            ? "(" + col + " is not null and " + col + op + "?" + cast + ")"
            : "(" + col + " is null or " + col + op + "?" + cast + ")";
      }
      if (beyond != null) {
        List<String> term = new ArrayList<>(equal);
        term.add(beyond);
        alternatives.add("(" + String.join(" and ", term) + ")");
      }
      equal.add(value == null ? col + " is null" : col + " = ?" + cast);
    }
    List<String> last = new ArrayList<>(equal);
    last.add("x.pk " + (cursor.before() ? "<" : ">") + " ?");
    alternatives.add("(" + String.join(" and ", last) + ")");
    // bind in the order the placeholders appear
    for (String alternative : alternatives) {
      int placeholders = alternative.length() - alternative.replace("?", "").length();
      int used = 0;
      for (int i = 0; i < sort.size() && used < placeholders; i++) {
        String value = cursor.sortValues().get(i);
        if (value != null) {
          args.add(value);
          used++;
        }
      }
      if (used < placeholders) {
        args.add(cursor.pk());
      }
    }
    return "(" + String.join(" or ", alternatives) + ")";
  }
}

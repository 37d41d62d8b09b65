package dev.sluice.store;

import dev.sluice.fhir.ParamKind;
import dev.sluice.fhir.SearchParam;
import dev.sluice.search.Criterion;
import dev.sluice.search.Modifier;
import dev.sluice.search.Prefix;
import dev.sluice.search.SearchQuery;
import dev.sluice.search.SearchText;
import dev.sluice.search.SearchValue;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the criteria of a {@link SearchQuery} into one SQL condition over a resource pk
 * column, for use inside any bigger query: search pages here, {@code _typeFilter} in the
 * export ({@code ... and (<fragment 1> or <fragment 2>)} over {@code resource_version v}
 * with {@code v.pk}).
 *
 * <p>The condition is made of {@code in}/{@code exists} sub-queries over the index tables;
 * it has no ORDER BY or LIMIT and does not restrict the resource type by itself (index keys
 * are per type, but {@code _id} alone needs the caller's type restriction to be exact only
 * when combined with nothing else: it checks the type too). Every value is a bound
 * parameter: bind {@link Fragment#params()} in order with {@code setObject}, and plan with the
 * values ({@code PGStatement.setPrepareThreshold(0)}), since a generic plan cannot pick the
 * right index. The index holds the values of the <em>current</em> version of each resource;
 * {@link IndexTables#PAST} judges other versions by the same SQL over rows computed for them.
 */
public final class SearchSql {
  /** Read from {@code resource.last_updated}, not from the index tables. */
  static final String LAST_UPDATED = "_lastUpdated";
  /** Above every character in byte order: the upper bound of a prefix range. */
  private static final String MAX_CHAR = new String(Character.toChars(Character.MAX_CODE_POINT));

  private final Clock clock;

  public SearchSql(Clock clock) {
    this.clock = clock;
  }

  /** A boolean SQL condition and the values of its {@code ?} placeholders, in order. */
  public record Fragment(String sql, List<Object> params) {
    public Fragment {
      params = List.copyOf(params);
    }
  }

  /** The condition "the resource at {@code pkColumn} matches every criterion of {@code query}"; {@code true} when there is none. */
  public Fragment where(SearchQuery query, String pkColumn) {
    return where(query, pkColumn, IndexTables.CURRENT);
  }

  /** The same condition, judged on the index rows and last-updated time that {@code tables} names. */
  public Fragment where(SearchQuery query, String pkColumn, IndexTables tables) {
    return where(query, pkColumn, tables, null);
  }

  /**
   * Where a page of rows in pk order starts: after (or before) the cursor's pk. The caller keeps
   * its own {@code pk > ?}; this repeats it inside each index sub-query on {@code res_pk}, which
   * PostgreSQL does not derive from the join, so that a deep page's index scan starts at the
   * cursor instead of reading every entry of the value before it.
   */
  public record PkBound(boolean before, long pk) {}

  /** The same condition, each index sub-query of the resource at {@code pkColumn} bounded by {@code bound} (null: none). */
  public Fragment where(SearchQuery query, String pkColumn, IndexTables tables, PkBound bound) {
    Builder b = new Builder(pkColumn, bound);
    String sql = b.all(query.type(), query.criteria(), pkColumn, tables);
    return new Fragment(sql, b.params);
  }

  private final class Builder {
    private final List<Object> params = new ArrayList<>();
    private final String boundPk;
    private final PkBound bound;
    private int aliases;

    Builder(String boundPk, PkBound bound) {
      this.boundPk = boundPk;
      this.bound = bound;
    }

    /** " and {@code column} > ?" when {@code pk} is the bounded resource's (not a chain's target). */
    private String bounded(String column, String pk) {
      if (bound == null || !pk.equals(boundPk)) {
        return "";
      }
      return " and " + column + (bound.before() ? " < " : " > ") + bind(bound.pk());
    }

    private String alias(String base) {
      return base + (++aliases);
    }

    private String bind(Object value) {
      params.add(value);
      return "?";
    }

    String all(String type, List<Criterion> criteria, String pk, IndexTables tables) {
      if (criteria.isEmpty()) {
        return "true";
      }
      List<String> parts = new ArrayList<>();
      Map<SearchParam, List<SearchValue>> ranges = new LinkedHashMap<>();
      for (Criterion c : criteria) {
        if (c instanceof Criterion.Match m && isRange(m)) {
          ranges.computeIfAbsent(m.param(), p -> new ArrayList<>()).add(m.anyOf().getFirst());
        } else {
          parts.add(criterion(type, c, pk, tables));
        }
      }
      ranges.forEach((param, values) ->
          parts.add(match(new Criterion.Match(param, Modifier.NONE, values), pk, values.size() > 1, tables)));
      return String.join(" and ", parts);
    }

    /**
     * A single range value on a single-valued parameter: repeated ones ({@code date=ge2015&date=lt2016})
     * are then tested on the same index row, the same answer (there is one value) for a far
     * narrower index scan.
     */
    private static boolean isRange(Criterion.Match m) {
      return m.param().singleValued() && m.modifier() == Modifier.NONE && m.anyOf().size() == 1
          && !m.param().name().equals(LAST_UPDATED)
          && (m.param().kind() == ParamKind.DATE || m.param().kind() == ParamKind.NUMBER
              || m.param().kind() == ParamKind.QUANTITY);
    }

    /** @param tables where the rows of the resource at {@code pk} are; other resources are always current */
    String criterion(String type, Criterion c, String pk, IndexTables tables) {
      return switch (c) {
        case Criterion.Ids ids -> {
          String x = alias("x");
          String typeParam = bind(type);
          StringBuilder in = new StringBuilder();
          for (String id : ids.ids()) {
            in.append(in.isEmpty() ? "" : ", ").append(bind(id));
          }
          yield pk + " in (select " + x + ".pk from resource " + x + " where " + x + ".res_type = "
              + typeParam + " and " + x + ".res_id in (" + in + "))";
        }
        case Criterion.Match m -> match(m, pk, false, tables);
        case Criterion.Missing m when m.param().name().equals(LAST_UPDATED) -> m.missing() ? "false" : "true";
        case Criterion.Missing m when m.param().kind() == ParamKind.COMPOSITE ->
            // a composite has a value where all its parts have one in the same item
            (m.missing() ? "not " : "") + "exists (" + composite(m.param(), null, pk, tables) + ")";
        case Criterion.Missing m -> {
          String t = alias("m");
          yield (m.missing() ? "not " : "") + "exists (select 1 from " + tables.table(m.param().kind()) + " " + t
              + " where " + t + ".res_pk = " + pk + " and " + keyIn(t, m.param()) + ")";
        }
        case Criterion.Chain ch -> {
          String r = alias("r");
          String x = alias("x");
          String head = pk + " in (select " + r + ".res_pk from " + tables.table(ParamKind.REFERENCE) + " " + r + " where "
              + keyIn(r, ch.reference()) + " and " + r + ".target_type = " + bind(ch.targetType()) + " and "
              + r + ".target_id in (select " + x + ".res_id from resource " + x + " where " + x + ".res_type = "
              + bind(ch.targetType()) + " and not " + x + ".deleted and ";
          yield head + criterion(ch.targetType(), ch.inner(), x + ".pk", IndexTables.CURRENT) + "))";
        }
        case Criterion.Has h -> {
          String t = alias("t");
          String r = alias("r");
          // ids from the references of the matching sources: work in proportion to the matches,
          // not to every reference to every resource of this type
          String head = pk + " in (select " + t + ".pk from resource " + t + " where " + t + ".res_type = "
              + bind(type) + " and " + t + ".res_id in (select " + r + ".target_id from idx_reference " + r
              + " where " + keyIn(r, h.reference()) + " and " + r + ".target_type = " + bind(type) + " and ";
          yield head + criterion(h.sourceType(), h.inner(), r + ".res_pk", IndexTables.CURRENT) + "))";
        }
        case Criterion.AnyOf any -> {
          List<String> parts = new ArrayList<>();
          for (Criterion inner : any.anyOf()) {
            parts.add(criterion(type, inner, pk, tables));
          }
          yield "(" + String.join(" or ", parts) + ")";
        }
        case Criterion.InCompartment in -> {
          String cp = alias("c");
          yield pk + " in (select " + cp + ".res_pk from compartment " + cp + " where " + cp + ".patient_id = "
              + bind(in.patientId()) + " and " + cp + ".res_type = " + bind(type) + ")";
        }
      };
    }

    /** @param allOf the values must all hold for one row (merged ranges) instead of any */
    private String match(Criterion.Match m, String pk, boolean allOf, IndexTables tables) {
      SearchParam p = m.param();
      if (p.kind() == ParamKind.COMPOSITE) {
        List<String> any = new ArrayList<>();
        for (SearchValue v : m.anyOf()) {
          any.add(pk + " in (" + composite(p, (SearchValue.Composite) v, pk, tables) + ")");
        }
        return any.size() == 1 ? any.getFirst() : "(" + String.join(" or ", any) + ")";
      }
      if (p.name().equals(LAST_UPDATED)) {
        return lastUpdated(m, pk, tables);
      }
      if (m.modifier() == Modifier.TEXT) {
        return text(m, pk, tables);
      }
      ParamKind kind = p.kind();
      String t = alias("i");
      String keyCondition = m.modifier() == Modifier.OF_TYPE ? keyIn(t, p.ofTypeKeys()) : keyIn(t, p);
      List<String> any = new ArrayList<>();
      for (SearchValue v : m.anyOf()) {
        any.add(value(t, kind, m.modifier(), v));
      }
      String condition = keyCondition + " and (" + String.join(allOf ? ") and (" : " or ", any) + ")";
      if (m.modifier() == Modifier.NOT) {
        return "not exists (select 1 from " + tables.table(kind) + " " + t + " where " + t + ".res_pk = " + pk + " and "
            + condition + ")";
      }
      return pk + " in (select " + t + ".res_pk from " + tables.table(kind) + " " + t + " where " + condition
          + bounded(t + ".res_pk", pk) + ")";
    }

    /**
     * {@code :text}, starts-with on the display texts of a token parameter: those on its token
     * rows and on the text-only token rows under its text keys (V6), and those that rows
     * written before V6 hold in {@code idx_string} under the text keys. The token rows are
     * filtered, not looked up by an index: {@code :text} is rare, and an index on the texts
     * would cost every load.
     */
    private String text(Criterion.Match m, String pk, IndexTables tables) {
      List<Integer> keys = new ArrayList<>(m.param().keys());
      keys.addAll(m.param().textKeys());
      String t = alias("i");
      String onTokens = "select " + t + ".res_pk from " + tables.table(ParamKind.TOKEN) + " " + t + " where "
          + keyIn(t, keys) + " and (" + startsWithAny(t + ".display", m.anyOf()) + ")";
      String s = alias("i");
      String onStrings = "select " + s + ".res_pk from " + tables.table(ParamKind.STRING) + " " + s + " where "
          + keyIn(s, m.param().textKeys()) + " and (" + startsWithAny(s + ".norm", m.anyOf()) + ")";
      // one sub-query, not two or-ed: the planner can make a semi-join of it
      return pk + " in (" + onTokens + " union all " + onStrings + ")";
    }

    /** {@code column} (normalized, byte order) starts with any of the text values, normalized. */
    private String startsWithAny(String column, List<SearchValue> values) {
      List<String> any = new ArrayList<>();
      for (SearchValue v : values) {
        any.add(startsWith(column, SearchText.normalize(((SearchValue.Text) v).value())));
      }
      return String.join(" or ", any);
    }

    /** A prefix as one range in byte order: no LIKE, so no metacharacters to escape. */
    private String startsWith(String column, String prefix) {
      return column + " >= " + bind(prefix) + " and " + column + " < " + bind(prefix + MAX_CHAR);
    }

    /** {@code _lastUpdated} is read from the resource table, which has it already (not indexed twice). */
    private String lastUpdated(Criterion.Match m, String pk, IndexTables tables) {
      String x = alias("x");
      List<String> any = new ArrayList<>();
      for (SearchValue v : m.anyOf()) {
        any.add(date(x + ".last_updated", "(" + x + ".last_updated + interval '1 millisecond')", (SearchValue.Date) v));
      }
      return pk + " in (select " + x + ".pk from " + tables.resource() + " " + x + " where not " + x + ".deleted and ("
          + String.join(" or ", any) + "))";
    }

    /** The rows of {@code p}'s values ({@link #keyCondition}). */
    private String keyIn(String t, SearchParam p) {
      return keyCondition(t, p, params);
    }

    /** {@code t.key = ?}, or {@code t.key in (?, ?)} for a parameter that subsumes others. */
    private String keyIn(String t, List<Integer> keys) {
      return keyCondition(t, keys, List.of(), params);
    }

    /**
     * The res_pk of the resources with an item (rows of the same res_pk and grp) whose parts all
     * match {@code v}; with {@code v} null, the resource at {@code pk} if it has an item with all parts.
     */
    private String composite(SearchParam p, SearchValue.Composite v, String pk, IndexTables tables) {
      StringBuilder from = new StringBuilder();
      List<String> where = new ArrayList<>();
      String first = null;
      for (int i = 0; i < p.components().size(); i++) {
        SearchParam.Component c = p.components().get(i);
        String t = alias("k");
        if (first == null) {
          from.append(tables.table(c.kind())).append(' ').append(t);
          first = t;
        } else {
          from.append(" join ").append(tables.table(c.kind())).append(' ').append(t).append(" on ").append(t)
              .append(".res_pk = ").append(first).append(".res_pk and ").append(t).append(".grp = ")
              .append(first).append(".grp");
        }
        where.add(keyIn(t, p.componentKeys(i)));
        if (v != null) {
          where.add("(" + value(t, c.kind(), Modifier.NONE, v.parts().get(i)) + ")");
        }
      }
      if (v == null) {
        where.add(first + ".res_pk = " + pk);
      }
      return "select " + first + ".res_pk from " + from + " where " + String.join(" and ", where);
    }

    private String value(String t, ParamKind kind, Modifier modifier, SearchValue v) {
      return switch (v) {
        case SearchValue.Token tok -> {
          List<String> c = new ArrayList<>();
          if (tok.system() != null) {
            c.add(t + ".system = " + bind(IndexValue.of(tok.system())));
          } else if (tok.noSystem()) {
            c.add(t + ".system is null");
          }
          if (tok.code() != null) {
            c.add(t + ".code = " + bind(IndexValue.of(tok.code())));
          }
          yield String.join(" and ", c);
        }
        case SearchValue.Text s -> {
          String norm = SearchText.normalize(s.value());
          yield switch (modifier) {
            case EXACT -> t + ".norm = " + bind(norm) + " and " + t + ".exact = " + bind(s.value());
            case CONTAINS -> t + ".norm like " + bind("%" + likeEscape(norm) + "%");
            default -> startsWith(t + ".norm", norm);
          };
        }
        // a long URI is indexed by its start (IndexValue): :below finds it by prefixes up to that length
        case SearchValue.Uri u -> modifier == Modifier.BELOW
            ? t + ".uri >= " + bind(u.value()) + " and " + t + ".uri < " + bind(u.value() + MAX_CHAR)
            : t + ".uri = " + bind(IndexValue.of(u.value()));
        case SearchValue.Date d -> date(t + ".lo", t + ".hi", d);
        case SearchValue.Number n -> number(t + ".value", n.prefix(), n.value());
        case SearchValue.Quantity q -> {
          String c = number(t + ".value", q.prefix(), q.value());
          if (q.system() != null) {
            c += " and " + t + ".system = " + bind(q.system());
          }
          if (q.code() != null) {
            c += " and (" + t + ".code = " + bind(q.code()) + " or " + t + ".unit = " + bind(q.code()) + ")";
          }
          yield c;
        }
        case SearchValue.Reference r -> {
          if (r.id() == null) {
            yield t + ".url = " + bind(IndexValue.of(r.url()));
          }
          String c = t + ".target_id = " + bind(r.id());
          c = r.type() == null ? c : c + " and " + t + ".target_type = " + bind(r.type());
          yield r.url() == null ? c : "(" + c + ") or " + t + ".url = " + bind(IndexValue.of(r.url()));
        }
        case SearchValue.Composite c -> throw new IllegalStateException("composite values are matched as a whole");
      };
    }

    private String date(String lo, String hi, SearchValue.Date d) {
      return switch (d.prefix()) {
        case EQ -> lo + " >= " + ts(d.lo()) + " and " + hi + " <= " + ts(d.hi());
        case NE -> "not (" + lo + " >= " + ts(d.lo()) + " and " + hi + " <= " + ts(d.hi()) + ")";
        case GT -> hi + " > " + ts(d.hi());
        case LT -> lo + " < " + ts(d.lo());
        case GE -> hi + " > " + ts(d.lo());
        case LE -> lo + " < " + ts(d.hi());
        case SA -> lo + " >= " + ts(d.hi());
        case EB -> hi + " <= " + ts(d.lo());
        case AP -> {
          // FHIR leaves "approximately" to the server: 10% of the distance from now, at least a day
          Duration gap = Duration.between(d.lo(), clock.instant()).abs().dividedBy(10);
          Duration slack = gap.compareTo(Duration.ofDays(1)) < 0 ? Duration.ofDays(1) : gap;
          yield lo + " < " + ts(d.hi().plus(slack)) + " and " + hi + " > " + ts(d.lo().minus(slack));
        }
      };
    }

    private String ts(Instant t) {
      return bind(OffsetDateTime.ofInstant(t, ZoneOffset.UTC)) + "::timestamptz";
    }

    private String number(String column, Prefix prefix, BigDecimal value) {
      // the implicit range of a number is half a unit of its last digit either side (100 is [99.5, 100.5))
      BigDecimal half = value.ulp().divide(BigDecimal.valueOf(2));
      return switch (prefix) {
        case EQ -> column + " >= " + bind(value.subtract(half)) + " and " + column + " < " + bind(value.add(half));
        case NE -> "not (" + column + " >= " + bind(value.subtract(half)) + " and " + column + " < "
            + bind(value.add(half)) + ")";
        case GT, SA -> column + " > " + bind(value);
        case LT, EB -> column + " < " + bind(value);
        case GE -> column + " >= " + bind(value);
        case LE -> column + " <= " + bind(value);
        case AP -> {
          BigDecimal slack = value.abs().divide(BigDecimal.TEN).max(half);
          yield column + " >= " + bind(value.subtract(slack)) + " and " + column + " <= " + bind(value.add(slack));
        }
      };
    }
  }

  /**
   * The condition on the index rows at alias {@code t} that hold {@code p}'s values, binding
   * into {@code params}: its keys ({@link SearchParam#keys()}), and the rows of each parameter
   * it is derived from that point to its target type. Its own key stays in: rows written before
   * it was derived, one per local reference, still count. All keys go in one list, and the type
   * is a filter that no index condition can be made of
   * ({@code t.key in (?, ?) and (t.key <> ? or t.target_type = ?)}): an or of two indexable
   * conditions made two bitmap scans, and its repeated clauses made the planner expect a
   * fiftieth of the rows.
   */
  static String keyCondition(String t, SearchParam p, List<Object> params) {
    return keyCondition(t, p.keys(), p.derivations(), params);
  }

  private static String keyCondition(String t, List<Integer> keys, List<SearchParam.Derived> derived,
      List<Object> params) {
    if (derived.isEmpty()) {
      return keyList(t, keys, params);
    }
    List<Integer> all = new ArrayList<>(keys);
    derived.forEach(d -> all.add(d.key()));
    StringBuilder sb = new StringBuilder(keyList(t, all, params));
    for (SearchParam.Derived d : derived) {
      sb.append(" and (").append(t).append(".key <> ? or ").append(t).append(".target_type = ?)");
      params.add(d.key());
      params.add(d.targetType());
    }
    return sb.toString();
  }

  private static String keyList(String t, List<Integer> keys, List<Object> params) {
    params.addAll(keys);
    return keys.size() == 1 ? t + ".key = ?"
        : t + ".key in (" + String.join(", ", Collections.nCopies(keys.size(), "?")) + ")";
  }

  private static String likeEscape(String s) {
    return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
  }

  static String table(ParamKind kind) {
    return IndexTables.CURRENT.table(kind);
  }
}

package dev.sluice.store;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.ParamKind;
import dev.sluice.search.SearchQuery;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.postgresql.PGStatement;

/**
 * Runs searches: one page of matches in sort order with keyset paging, the total, and
 * {@code _include}/{@code _revinclude}. The conditions come from {@link SearchSql}.
 */
public final class ResourceSearch {
  /** Included resources per page, at most: a page stays bounded whatever the references. */
  public static final int MAX_INCLUDED = 1000;
  private static final int MAX_ITERATIONS = 5;

  private static final String COLUMNS = "v.res_type, v.res_id, v.version, v.last_updated, v.deleted, v.content";

  private final DataSource dataSource;
  private final SearchSql sql;

  public ResourceSearch(DataSource dataSource, SearchSql sql) {
    this.dataSource = dataSource;
    this.sql = sql;
  }

  /** A matching resource and the values it was sorted by. */
  public record Found(long pk, StoredResource resource, List<String> sortValues) {}

  /** One page; {@code next}/{@code previous} are null at the ends. */
  public record Page(List<Found> matches, List<StoredResource> included, SearchCursor next, SearchCursor previous) {}

  public long count(SearchQuery query) {
    SearchSql.Fragment where = sql.where(query, "r.pk");
    String text = "select count(*) from resource r where r.res_type = ? and not r.deleted and " + where.sql();
    List<Object> args = new ArrayList<>();
    args.add(query.type());
    args.addAll(where.params());
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(text)) {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw FhirException.internal("Counting the search results failed: " + e.getMessage(), e);
    }
  }

  /** A statement and the values of its placeholders, in order. */
  record Statement(String text, List<Object> args) {}

  /** @param cursor null for the first page */
  public Page page(SearchQuery query, int count, SearchCursor cursor) {
    List<SearchQuery.SortKey> sort = query.sort();
    if (cursor != null && cursor.sortValues().size() != sort.size()) {
      throw FhirException.badRequest("_cursor does not belong to this search's _sort", "_cursor");
    }
    boolean backward = cursor != null && cursor.before();
    Statement statement = pageStatement(query, count, cursor);
    List<Found> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(statement.text())) {
      bind(ps, statement.args());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          List<String> values = new ArrayList<>();
          for (int i = 0; i < sort.size(); i++) {
            values.add(rs.getString(8 + i));
          }
          rows.add(new Found(rs.getLong(1), stored(rs, 2), values));
        }
      }
    } catch (SQLException e) {
      if (cursor != null && e.getSQLState() != null && e.getSQLState().startsWith("22")) {
        // a cursor edited by hand: its sort values do not read back as their type
        throw FhirException.badRequest("_cursor is not a paging token issued by this server", "_cursor");
      }
      throw FhirException.internal("The search failed: " + e.getMessage(), e);
    }
    boolean more = rows.size() > count;
    if (more) {
      rows.removeLast();
    }
    if (backward) {
      Collections.reverse(rows);
    }
    SearchCursor next = null;
    SearchCursor previous = null;
    if (!rows.isEmpty()) {
      Found first = rows.getFirst();
      Found last = rows.getLast();
      if (backward ? true : more) {
        next = new SearchCursor(false, last.sortValues(), last.pk());
      }
      if (backward ? more : cursor != null) {
        previous = new SearchCursor(true, first.sortValues(), first.pk());
      }
    }
    return new Page(rows, included(query, rows), next, previous);
  }

  /** The SQL of one page ({@code count} + 1 rows, to know whether there is a next), as {@link #page} runs it. */
  Statement pageStatement(SearchQuery query, int count, SearchCursor cursor) {
    List<SearchQuery.SortKey> sort = query.sort();
    boolean backward = cursor != null && cursor.before();
    List<Object> args = new ArrayList<>();
    // Only r.pk inside, so that the type filter is an index-only scan of resource_type_pk in pk
    // order; reading r.version here made PostgreSQL walk the primary key across all types.
    StringBuilder inner = new StringBuilder("select r.pk");
    for (int i = 0; i < sort.size(); i++) {
      inner.append(", ").append(sortExpression(sort.get(i), args)).append(" as s").append(i);
    }
    // in pk order a page's start bounds the index sub-queries too (SearchSql.PkBound)
    SearchSql.PkBound bound = sort.isEmpty() && cursor != null ? new SearchSql.PkBound(cursor.before(), cursor.pk()) : null;
    SearchSql.Fragment where = sql.where(query, "r.pk", IndexTables.CURRENT, bound);
    inner.append(" from resource r where r.res_type = ? and not r.deleted and ").append(where.sql());
    args.add(query.type());
    args.addAll(where.params());

    StringBuilder text = new StringBuilder("select x.pk, ").append(COLUMNS);
    for (int i = 0; i < sort.size(); i++) {
      text.append(", x.s").append(i).append("::text");
    }
    text.append(" from (").append(inner).append(") x join resource c on c.pk = x.pk")
        .append(" join resource_version v on v.pk = c.pk and v.version = c.version");
    if (cursor != null) {
      text.append(" where ").append(Keyset.condition(sort, cursor, args));
    }
    text.append(" order by ").append(Keyset.order(sort, backward)).append(" limit ?");
    args.add(count + 1);
    return new Statement(text.toString(), args);
  }

  private static String sortExpression(SearchQuery.SortKey key, List<Object> args) {
    if (key.param() == null) {
      return "r.res_id";
    }
    if (key.param().name().equals("_lastUpdated")) {
      return "r.last_updated";
    }
    String agg = key.descending() ? "max" : "min";
    String column = switch (key.param().kind()) {
      case DATE -> key.descending() ? "s.hi" : "s.lo";
      case STRING -> "s.norm";
      case TOKEN -> "s.code";
      case NUMBER, QUANTITY -> "s.value";
      case REFERENCE -> "coalesce(s.target_type || '/' || s.target_id, s.url)";
      case URI -> "s.uri";
      case COMPOSITE, SPECIAL -> throw FhirException.badRequest("Cannot sort by " + key.param().name(), "_sort");
    };
    return "(select " + agg + "(" + column + ") from " + SearchSql.table(key.param().kind())
        + " s where s.res_pk = r.pk and " + SearchSql.keyCondition("s", key.param(), args) + ")";
  }

  /** The cast that reads a sort value back from the text form it travels in. */
  static String cast(SearchQuery.SortKey key) {
    if (key.param() == null) {
      return "::text";
    }
    if (key.param().name().equals("_lastUpdated")) {
      return "::timestamptz";
    }
    ParamKind kind = key.param().kind();
    return switch (kind) {
      case DATE -> "::timestamptz";
      case NUMBER, QUANTITY -> "::numeric";
      default -> "::text";
    };
  }

  private List<StoredResource> included(SearchQuery query, List<Found> matches) {
    if (query.includes().isEmpty() || matches.isEmpty()) {
      return List.of();
    }
    Map<Long, StoredResource> seen = new LinkedHashMap<>();
    matches.forEach(f -> seen.put(f.pk(), null));
    Map<Long, StoredResource> included = new LinkedHashMap<>();
    List<Long> frontier = matches.stream().map(Found::pk).toList();
    try (Connection c = dataSource.getConnection()) {
      for (int round = 0; round < MAX_ITERATIONS && !frontier.isEmpty(); round++) {
        List<Long> added = new ArrayList<>();
        for (SearchQuery.Include inc : query.includes()) {
          if (round > 0 && !inc.iterate()) {
            continue;
          }
          for (var e : include(c, inc, frontier).entrySet()) {
            if (!seen.containsKey(e.getKey()) && included.size() < MAX_INCLUDED) {
              seen.put(e.getKey(), e.getValue());
              included.put(e.getKey(), e.getValue());
              added.add(e.getKey());
            }
          }
        }
        frontier = added;
      }
    } catch (SQLException e) {
      throw FhirException.internal("Reading the included resources failed: " + e.getMessage(), e);
    }
    return List.copyOf(included.values());
  }

  private static Map<Long, StoredResource> include(Connection c, SearchQuery.Include inc, List<Long> from)
      throws SQLException {
    List<Object> args = new ArrayList<>();
    args.add(c.createArrayOf("bigint", from.toArray(Long[]::new)));
    String select = inc.reverse()
        ? """
          select ir.res_pk from resource m join idx_reference ir
              on ir.target_type = m.res_type and ir.target_id = m.res_id
           where m.pk = any(?) and\s""" + SearchSql.keyCondition("ir", inc.reference(), args)
            + (inc.targetType() == null ? "" : " and m.res_type = ?")
        : """
          select t.pk from idx_reference ir join resource t
              on t.res_type = ir.target_type and t.res_id = ir.target_id
           where ir.res_pk = any(?) and\s""" + SearchSql.keyCondition("ir", inc.reference(), args)
            + (inc.targetType() == null ? "" : " and ir.target_type = ?");
    if (inc.targetType() != null) {
      args.add(inc.targetType());
    }
    String text = "select t.pk, " + COLUMNS + " from resource t join resource_version v on v.pk = t.pk and v.version = t.version"
        + " where not t.deleted and t.pk in (" + select + ") limit " + MAX_INCLUDED;
    Map<Long, StoredResource> out = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(text)) {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getLong(1), stored(rs, 2));
        }
      }
    }
    return out;
  }

  private static StoredResource stored(ResultSet rs, int from) throws SQLException {
    return new StoredResource(rs.getString(from), rs.getString(from + 1), rs.getInt(from + 2),
        rs.getTimestamp(from + 3).toInstant(), rs.getBoolean(from + 4), rs.getBytes(from + 5), false);
  }

  /**
   * Binds the values and plans the statement for them: search SQL varies with every query,
   * and a cached generic plan, made without the values, walks whole tables where the values
   * would have picked an index (seen: 5 ms with the values, over 100 ms generic).
   */
  private static void bind(PreparedStatement ps, List<Object> args) throws SQLException {
    ps.unwrap(PGStatement.class).setPrepareThreshold(0);
    for (int i = 0; i < args.size(); i++) {
      ps.setObject(i + 1, args.get(i));
    }
  }
}

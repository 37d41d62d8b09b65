package dev.sluice.store;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchQuery;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.postgresql.PGStatement;

/**
 * Judges searches on versions that are no longer current, such as an export's versions at
 * transactionTime that were updated or deleted since. The search index holds current versions
 * only, so this computes each version's rows with the indexer that writes use, binds them as
 * arrays, and runs the very condition {@link SearchSql} renders for the index over those rows
 * ({@link IndexTables#PAST}, common table expressions of the index tables' shape): every search
 * feature means the same on both. One statement per batch; nothing is written and no session
 * state is left behind.
 */
public final class PastVersionSearch {
  /** A version to judge, parsed; {@code pk} is its resource's. */
  public record PastVersion(long pk, Instant lastUpdated, IBaseResource resource) {}

  /** The past_* relations, in the column order of the index tables; texts and uris compare in byte order there too. */
  private static final String ROWS =
      """
      with past_token (res_pk, key, grp, system, code, display) as (
             select a, b, c, d, e, f collate "C" from unnest(?::bigint[], ?::int[], ?::int[], ?::text[], ?::text[], ?::text[]) u (a, b, c, d, e, f)),
           past_string (res_pk, key, grp, norm, exact) as (
             select a, b, c, d collate "C", e from unnest(?::bigint[], ?::int[], ?::int[], ?::text[], ?::text[]) u (a, b, c, d, e)),
           past_date (res_pk, key, grp, lo, hi) as (
             select * from unnest(?::bigint[], ?::int[], ?::int[], (?::text[])::timestamptz[], (?::text[])::timestamptz[])),
           past_number (res_pk, key, grp, value) as (
             select * from unnest(?::bigint[], ?::int[], ?::int[], ?::numeric[])),
           past_quantity (res_pk, key, grp, value, system, code, unit) as (
             select * from unnest(?::bigint[], ?::int[], ?::int[], ?::numeric[], ?::text[], ?::text[], ?::text[])),
           past_reference (res_pk, key, grp, target_type, target_id, url) as (
             select * from unnest(?::bigint[], ?::int[], ?::int[], ?::text[], ?::text[], ?::text[])),
           past_uri (res_pk, key, grp, uri) as (
             select a, b, c, d collate "C" from unnest(?::bigint[], ?::int[], ?::int[], ?::text[]) u (a, b, c, d)),
           past_resource (pk, last_updated, deleted) as (
             select a, b, false from unnest(?::bigint[], (?::text[])::timestamptz[]) u (a, b))
      select p.pk from past_resource p where\s""";

  private final ResourceIndexer indexer;
  private final SearchSql sql;

  public PastVersionSearch(FhirModel fhir, SearchParameters parameters, ParamExpressions expressions,
      OwnBases ownBases, SearchSql sql) {
    // indexed as a write indexes them, references to this server's own base included
    this.indexer = new ResourceIndexer(fhir, parameters, expressions, ownBases);
    this.sql = sql;
  }

  /**
   * The pks of the {@code versions} (all of {@code type}, one per resource) that match any of
   * {@code anyOf}, judged on {@code connection} (which may have a cursor open).
   */
  public Set<Long> matching(Connection connection, String type, List<SearchQuery> anyOf, List<PastVersion> versions)
      throws SQLException {
    if (versions.isEmpty() || anyOf.isEmpty()) {
      return Set.of();
    }
    Columns columns = new Columns();
    for (PastVersion v : versions) {
      for (IndexRow row : indexer.rows(type, v.resource())) {
        columns.add(v.pk(), row);
      }
      columns.resource(v);
    }
    StringBuilder where = new StringBuilder();
    List<Object> params = new ArrayList<>();
    for (SearchQuery query : anyOf) {
      SearchSql.Fragment f = sql.where(query, "p.pk", IndexTables.PAST);
      where.append(where.isEmpty() ? "(" : " or (").append(f.sql()).append(')');
      params.addAll(f.params());
    }
    try (PreparedStatement ps = connection.prepareStatement(ROWS + where)) {
      // planned with the values, as searches are: a generic plan cannot pick the right index
      ps.unwrap(PGStatement.class).setPrepareThreshold(0);
      int i = columns.bind(connection, ps);
      for (Object param : params) {
        ps.setObject(++i, param);
      }
      Set<Long> hits = new HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          hits.add(rs.getLong(1));
        }
      }
      return hits;
    }
  }

  /** The index rows a write would give {@code version} of {@code type}. */
  List<IndexRow> rows(String type, IBaseResource version) {
    return indexer.rows(type, version);
  }

  /** The rows of one batch, column by column, in the order of {@link #ROWS}. */
  private static final class Columns {
    private final List<List<Object>> token = columns(6);
    private final List<List<Object>> string = columns(5);
    private final List<List<Object>> date = columns(5);
    private final List<List<Object>> number = columns(4);
    private final List<List<Object>> quantity = columns(7);
    private final List<List<Object>> reference = columns(6);
    private final List<List<Object>> uri = columns(4);
    private final List<List<Object>> resource = columns(2);

    private static List<List<Object>> columns(int n) {
      List<List<Object>> c = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        c.add(new ArrayList<>());
      }
      return c;
    }

    private static void append(List<List<Object>> table, Object... values) {
      for (int i = 0; i < values.length; i++) {
        table.get(i).add(values[i]);
      }
    }

    void add(long pk, IndexRow row) {
      switch (row) {
        case IndexRow.Token t -> append(token, pk, t.key(), t.grp(), t.system(), t.code(), t.display());
        case IndexRow.Str s -> append(string, pk, s.key(), s.grp(), s.norm(), s.exact());
        case IndexRow.Date d -> append(date, pk, d.key(), d.grp(), IndexRow.Date.text(d.lo()), IndexRow.Date.text(d.hi()));
        case IndexRow.Num n -> append(number, pk, n.key(), n.grp(), n.value());
        case IndexRow.Qty q -> append(quantity, pk, q.key(), q.grp(), q.value(), q.system(), q.code(), q.unit());
        case IndexRow.Ref r -> append(reference, pk, r.key(), r.grp(), r.targetType(), r.targetId(), r.url());
        case IndexRow.Uri u -> append(uri, pk, u.key(), u.grp(), u.uri());
      }
    }

    void resource(PastVersion v) {
      append(resource, v.pk(), v.lastUpdated().toString());
    }

    /** Binds every column as an array from parameter 1; returns the last index bound. */
    int bind(Connection c, PreparedStatement ps) throws SQLException {
      int i = 0;
      for (List<List<Object>> table : List.of(token, string, date, number, quantity, reference, uri, resource)) {
        for (List<Object> column : table) {
          ps.setArray(++i, c.createArrayOf(arrayType(column), column.toArray()));
        }
      }
      return i;
    }

    /** The element type pgjdbc sends an array as; the SQL casts each to its column type. */
    private static String arrayType(List<Object> column) {
      for (Object value : column) {
        if (value != null) {
          return switch (value) {
            case Long l -> "int8";
            case Integer n -> "int4";
            case BigDecimal d -> "numeric";
            default -> "text";
          };
        }
      }
      // an empty or all-null column: the cast in the SQL gives it its type
      return "text";
    }
  }
}

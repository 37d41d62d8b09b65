package dev.sluice.store;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Writes the search index and Patient compartment rows of resources inside the caller's
 * write transaction, so that the index never disagrees with the stored versions.
 *
 * <p>A {@link Batch} only collects: {@link Batch#flush()} deletes the old rows of every
 * resource it touched with one statement per table and writes the new rows with one COPY
 * per table, which keeps indexing cheap on bulk loads (a few statements per flush, not per
 * row).
 */
public final class SearchIndexWriter {
  private static final List<String> TABLES = List.of(
      "idx_token", "idx_string", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "compartment");

  private final PatientCompartment compartment;
  private final ResourceIndexer indexer;

  /** @param ownBases absolute references under these are indexed as the local {@code Type/id} */
  public SearchIndexWriter(FhirModel fhir, PatientCompartment compartment, SearchParameters parameters,
      ParamExpressions expressions, OwnBases ownBases) {
    this.compartment = compartment;
    this.indexer = new ResourceIndexer(fhir, parameters, expressions, ownBases);
  }

  /** The rows of {@code resource} now, to write later with {@link Batch#replace(long, String, ResourceIndexRows, boolean)}. */
  public ResourceIndexRows rows(String type, IBaseResource resource) {
    return new ResourceIndexRows(indexer.rows(type, resource), compartment.patientIds(type, resource));
  }

  /** Index rows of one write transaction; flushed before it commits. */
  public final class Batch {
    private final Connection connection;
    private final WriteTables tables;
    /** The rows each touched resource will have after the flush (empty for a removal). */
    private final Map<Long, Pending> pending = new LinkedHashMap<>();

    private Batch(Connection connection, WriteTables tables) {
      this.connection = connection;
      this.tables = tables;
    }

    /**
     * Replaces whatever was indexed for {@code pk} by the values of {@code resource}. A
     * resource whose {@code meta.versionId} is 1 was created in this transaction, so it has
     * no old rows to delete (which saves a bulk load most of its deletes).
     */
    public void replace(long pk, String type, IBaseResource resource) throws SQLException {
      put(pk, type, resource, "1".equals(resource.getMeta().getVersionId()) && !pending.containsKey(pk));
    }

    /**
     * As {@link #replace(long, String, IBaseResource)} with rows computed before ({@link
     * SearchIndexWriter#rows}); {@code created}: the resource was created by this transaction.
     */
    public void replace(long pk, String type, ResourceIndexRows rows, boolean created) {
      pending.put(pk, new Pending(type, rows.rows(), rows.patients(), created && !pending.containsKey(pk)));
    }

    private void put(long pk, String type, IBaseResource resource, boolean created) {
      pending.put(pk, new Pending(type, indexer.rows(type, resource), compartment.patientIds(type, resource), created));
    }

    public void remove(long pk) throws SQLException {
      pending.put(pk, new Pending(null, List.of(), Set.of(), false));
    }

    /** Drops what was collected since the last flush (its writes were rolled back to a savepoint). */
    public void discard() {
      pending.clear();
    }

    public void flush() throws SQLException {
      if (pending.isEmpty()) {
        return;
      }
      Long[] pks = pending.entrySet().stream().filter(e -> !e.getValue().created()).map(Map.Entry::getKey)
          .toArray(Long[]::new);
      if (pks.length > 0) {
        Array array = connection.createArrayOf("bigint", pks);
        for (String table : TABLES) {
          try (PreparedStatement ps = connection.prepareStatement(
              "delete from " + tables.table(table) + " where res_pk = any(?)")) {
            ps.setArray(1, array);
            ps.executeUpdate();
          }
        }
      }
      Copy copy = new Copy();
      pending.forEach((pk, p) -> {
        for (IndexRow row : p.rows()) {
          copy.add(pk, row);
        }
        for (String patient : p.patients()) {
          copy.compartment(patient, pk, p.type());
        }
      });
      pending.clear();
      copy.write(connection, tables);
    }
  }

  /** @param created true when the resource cannot have rows from before this transaction */
  private record Pending(String type, List<IndexRow> rows, Set<String> patients, boolean created) {}

  public Batch begin(Connection connection) {
    return new Batch(connection, WriteTables.LIVE);
  }

  /** A batch writing to {@code tables} (an InitialLoad's staging tables). */
  public Batch begin(Connection connection, WriteTables tables) {
    return new Batch(connection, tables);
  }

  /**
   * The rows of one flush in COPY text format, one buffer per table. Values are appended
   * straight into the buffers (no boxing, no per-row strings): this ran for every index row.
   */
  private static final class Copy {
    private static final String[] TARGETS = {
        "idx_token (res_pk, key, grp, system, code, display)",
        "idx_string (res_pk, key, grp, norm, exact)",
        "idx_date (res_pk, key, grp, lo, hi)",
        "idx_number (res_pk, key, grp, value)",
        "idx_quantity (res_pk, key, grp, value, system, code, unit)",
        "idx_reference (res_pk, key, grp, target_type, target_id, url)",
        "idx_uri (res_pk, key, grp, uri)",
        "compartment (patient_id, res_pk, res_type)"};
    private static final int COMPARTMENT = 7;

    private final CopyText[] tables = new CopyText[TARGETS.length];

    void add(long pk, IndexRow row) {
      switch (row) {
        case IndexRow.Token t -> {
          StringBuilder sb = start(0, pk, t.key(), t.grp());
          text(sb, t.system());
          text(sb, t.code());
          text(sb, t.display());
          sb.append('\n');
        }
        case IndexRow.Str s -> {
          StringBuilder sb = start(1, pk, s.key(), s.grp());
          text(sb, s.norm());
          text(sb, s.exact());
          sb.append('\n');
        }
        case IndexRow.Date d -> {
          StringBuilder sb = start(2, pk, d.key(), d.grp());
          sb.append('\t').append(IndexRow.Date.text(d.lo())).append('\t').append(IndexRow.Date.text(d.hi())).append('\n');
        }
        case IndexRow.Num n -> start(3, pk, n.key(), n.grp()).append('\t').append(n.value().toPlainString()).append('\n');
        case IndexRow.Qty q -> {
          StringBuilder sb = start(4, pk, q.key(), q.grp());
          sb.append('\t').append(q.value().toPlainString());
          text(sb, q.system());
          text(sb, q.code());
          text(sb, q.unit());
          sb.append('\n');
        }
        case IndexRow.Ref r -> {
          StringBuilder sb = start(5, pk, r.key(), r.grp());
          text(sb, r.targetType());
          text(sb, r.targetId());
          text(sb, r.url());
          sb.append('\n');
        }
        case IndexRow.Uri u -> {
          StringBuilder sb = start(6, pk, u.key(), u.grp());
          text(sb, u.uri());
          sb.append('\n');
        }
      }
    }

    void compartment(String patient, long pk, String type) {
      StringBuilder sb = buffer(COMPARTMENT);
      if (patient == null) {
        sb.append("\\N");
      } else {
        escape(sb, patient);
      }
      sb.append('\t').append(pk);
      text(sb, type);
      sb.append('\n');
    }

    /** Where the next row of {@code table} goes: the caller appends it whole, line end included. */
    private StringBuilder buffer(int table) {
      if (tables[table] == null) {
        tables[table] = new CopyText();
      }
      return tables[table].row();
    }

    /** res_pk, key and grp of an index row, without the line's end. */
    private StringBuilder start(int table, long pk, int key, int grp) {
      return buffer(table).append(pk).append('\t').append(key).append('\t').append(grp);
    }

    /** A tab, then the text escaped, or \\N for null. */
    private static void text(StringBuilder sb, String s) {
      sb.append('\t');
      if (s == null) {
        sb.append("\\N");
      } else {
        escape(sb, s);
      }
    }

    private static void escape(StringBuilder sb, String s) {
      int first = 0;
      while (first < s.length() && !special(s.charAt(first))) {
        first++;
      }
      // most values need no escape: append them whole (append(s) copies the string's bytes at
      // once; append(s, 0, n) goes char by char, which showed in the import's profile)
      if (first == s.length()) {
        sb.append(s);
        return;
      }
      sb.append(s, 0, first);
      for (int i = first; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '\\' -> sb.append("\\\\");
          case '\t' -> sb.append("\\t");
          case '\n' -> sb.append("\\n");
          case '\r' -> sb.append("\\r");
          default -> sb.append(c);
        }
      }
    }

    private static boolean special(char c) {
      return c == '\\' || c == '\t' || c == '\n' || c == '\r';
    }

    void write(Connection connection, WriteTables into) throws SQLException {
      CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
      for (int i = 0; i < tables.length; i++) {
        if (tables[i] != null && !tables[i].isEmpty()) {
          tables[i].copyInto(copy, into.table(TARGETS[i]));
        }
      }
    }
  }
}

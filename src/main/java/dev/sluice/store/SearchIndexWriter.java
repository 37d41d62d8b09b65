package dev.sluice.store;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
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

  public SearchIndexWriter(
      FhirModel fhir, PatientCompartment compartment, SearchParameters parameters, ParamExpressions expressions) {
    this.compartment = compartment;
    this.indexer = new ResourceIndexer(fhir, parameters, expressions);
  }

  /** Index rows of one write transaction; flushed before it commits. */
  public final class Batch {
    private final Connection connection;
    /** The rows each touched resource will have after the flush (empty for a removal). */
    private final Map<Long, Pending> pending = new LinkedHashMap<>();

    private Batch(Connection connection) {
      this.connection = connection;
    }

    /**
     * Replaces whatever was indexed for {@code pk} by the values of {@code resource}. A
     * resource whose {@code meta.versionId} is 1 was created in this transaction, so it has
     * no old rows to delete (which saves a bulk load most of its deletes).
     */
    public void replace(long pk, String type, IBaseResource resource) throws SQLException {
      boolean created = "1".equals(resource.getMeta().getVersionId()) && !pending.containsKey(pk);
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
              "delete from " + table + " where res_pk = any(?)")) {
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
      copy.write(connection);
    }
  }

  /** @param created true when the resource cannot have rows from before this transaction */
  private record Pending(String type, List<IndexRow> rows, Set<String> patients, boolean created) {}

  public Batch begin(Connection connection) {
    return new Batch(connection);
  }

  /** The rows of one flush in COPY text format, one buffer per table. */
  private static final class Copy {
    private final Map<String, StringBuilder> tables = new LinkedHashMap<>();

    void add(long pk, IndexRow row) {
      switch (row) {
        case IndexRow.Token t -> line("idx_token (res_pk, key, grp, system, code)", pk, t.key(), t.grp(),
            t.system(), t.code());
        case IndexRow.Str s -> line("idx_string (res_pk, key, grp, norm, exact)", pk, s.key(), s.grp(),
            s.norm(), s.exact());
        case IndexRow.Date d -> line("idx_date (res_pk, key, grp, lo, hi)", pk, d.key(), d.grp(),
            timestamp(d.lo()), timestamp(d.hi()));
        case IndexRow.Num n -> line("idx_number (res_pk, key, grp, value)", pk, n.key(), n.grp(), plain(n.value()));
        case IndexRow.Qty q -> line("idx_quantity (res_pk, key, grp, value, system, code, unit)", pk, q.key(),
            q.grp(), plain(q.value()), q.system(), q.code(), q.unit());
        case IndexRow.Ref r -> line("idx_reference (res_pk, key, grp, target_type, target_id, url)", pk, r.key(),
            r.grp(), r.targetType(), r.targetId(), r.url());
        case IndexRow.Uri u -> line("idx_uri (res_pk, key, grp, uri)", pk, u.key(), u.grp(), u.uri());
      }
    }

    void compartment(String patient, long pk, String type) {
      line("compartment (patient_id, res_pk, res_type)", patient, pk, type);
    }

    private void line(String target, Object... values) {
      StringBuilder sb = tables.computeIfAbsent(target, t -> new StringBuilder(4096));
      for (int i = 0; i < values.length; i++) {
        if (i > 0) {
          sb.append('\t');
        }
        Object v = values[i];
        if (v == null) {
          sb.append("\\N");
        } else {
          escape(sb, v.toString());
        }
      }
      sb.append('\n');
    }

    private static void escape(StringBuilder sb, String s) {
      for (int i = 0; i < s.length(); i++) {
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

    private static String timestamp(Instant t) {
      return t.equals(Instant.MIN) ? "-infinity" : t.equals(Instant.MAX) ? "infinity" : t.toString();
    }

    private static String plain(BigDecimal d) {
      return d.toPlainString();
    }

    void write(Connection connection) throws SQLException {
      if (tables.isEmpty()) {
        return;
      }
      CopyManager copy = connection.unwrap(PGConnection.class).getCopyAPI();
      try {
        for (var e : tables.entrySet()) {
          copy.copyIn("copy " + e.getKey() + " from stdin", new StringReader(e.getValue().toString()));
        }
      } catch (IOException e) {
        throw new SQLException("Writing the search index failed", e);
      }
    }
  }
}

package dev.sluice.store;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.search.SearchQuery;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * The read of one part of an organized export ({@code organizeOutputBy=Patient}): every
 * resource of the part's patients' compartments as at transactionTime, ordered by its block's
 * patient, that patient's Patient first. One binary COPY streams the rows from PostgreSQL, which
 * sorts within each patient (an incremental sort over the {@code compartment} primary key, spilling
 * to disk past {@code work_mem}), so memory here holds one resource whatever a compartment's size.
 *
 * <p>A resource belongs to one block: a Patient to its own when its own compartment is exported,
 * any other resource to the first exported patient (in the database's order of ids) whose
 * compartment holds it, so a resource in several compartments is written once.
 *
 * <p>As for the scans by type ({@link ExportScan}), {@code compartment} and the search index hold
 * the current versions: they are trusted for the resources unchanged since transactionTime. The
 * versions replaced since are read first, in bounded batches, parsed and judged by their own
 * content (their owners, {@code _typeFilter}); their owners go to {@code export_block_owner},
 * which the COPY reads beside {@code compartment}. Everything runs in one repeatable-read
 * transaction that is rolled back, so those rows are never committed and a resource changed
 * meanwhile is read once.
 */
final class PatientBlockScan {
  private static final String REPLACED =
      """
      select v.pk, v.version, v.res_type, v.last_updated, v.content from resource_version n
        join resource_version v on v.pk = n.pk and v.version = n.version - 1
       where n.res_type = any(?) and n.last_updated > ?
         and v.last_updated <= ? and v.valid_to > ? and not v.deleted
         and v.last_updated > coalesce(?::timestamptz, '-infinity')
      """;
  private static final String PLACE =
      """
      insert into export_block_owner (job_id, part_no, res_pk, version, res_type, patient_id)
      select ?, ?, u.pk, u.version, u.res_type, u.patient_id
        from unnest(?::bigint[], ?::int[], ?::text[], ?::text[]) u (pk, version, res_type, patient_id)
      """;

  private final FhirModel fhir;
  private final SearchSql searchSql;
  private final PastVersionSearch pastVersions;
  private final ExportScan.ReplacedBatch batchLimit;

  PatientBlockScan(FhirModel fhir, SearchSql searchSql, PastVersionSearch pastVersions,
      ExportScan.ReplacedBatch batchLimit) {
    this.fhir = fhir;
    this.searchSql = searchSql;
    this.pastVersions = pastVersions;
    this.batchLimit = batchLimit;
  }

  long scan(Connection connection, Runnable poison, ExportScan.BlockScan s, ExportScan.Owners owners,
      ExportScan.BlockSink sink) throws SQLException, IOException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(false);
    boolean[] poisoned = {false};
    try {
      // one snapshot for both reads; not read only: the owners of replaced versions are written (and rolled back)
      try (Statement st = connection.createStatement()) {
        st.execute("set transaction isolation level repeatable read");
        // Nested loops from compartment's primary key keep the rows in patient order (only an
        // incremental sort within each patient on top) and cost in proportion to the part;
        // PostgreSQL otherwise hashes the whole resource table for every part and sorts the part
        // (seen on medium x10, analyzed). SET LOCAL: for this transaction only, no session state.
        st.execute("set local enable_hashjoin = off");
        st.execute("set local enable_mergejoin = off");
      }
      boolean placed = placeReplaced(connection, s, owners);
      return copy(connection, sql(s, placed), () -> {
        poisoned[0] = true;
        poison.run();
      }, sink);
    } finally {
      if (!poisoned[0]) {
        // always: the export_block_owner rows must never be committed
        connection.rollback();
        connection.setAutoCommit(autoCommit);
      }
    }
  }

  /** Writes the owners of the versions replaced since T that the scan keeps; true when there are any. */
  private boolean placeReplaced(Connection connection, ExportScan.BlockScan s, ExportScan.Owners owners)
      throws SQLException {
    boolean any = false;
    try (PreparedStatement ps = connection.prepareStatement(REPLACED)) {
      ps.setFetchSize(batchLimit.rows());
      ps.setArray(1, connection.createArrayOf("text", s.types().toArray()));
      ps.setTimestamp(2, Timestamp.from(s.at()));
      ps.setTimestamp(3, Timestamp.from(s.at()));
      ps.setTimestamp(4, Timestamp.from(s.at()));
      ps.setTimestamp(5, s.since() == null ? null : Timestamp.from(s.since()));
      List<Replaced> batch = new ArrayList<>();
      long bytes = 0;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Replaced r = new Replaced(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
              rs.getBytes(5));
          batch.add(r);
          bytes += r.content().length;
          if (batch.size() >= batchLimit.rows() || bytes >= batchLimit.bytes()) {
            any |= place(connection, s, owners, batch);
            batch.clear();
            bytes = 0;
          }
        }
      }
      any |= place(connection, s, owners, batch);
    }
    return any;
  }

  private boolean place(Connection connection, ExportScan.BlockScan s, ExportScan.Owners owners, List<Replaced> batch)
      throws SQLException {
    // by type, for the type's _typeFilter
    Map<String, List<PastVersionSearch.PastVersion>> byType = new TreeMap<>();
    Map<Long, Set<String>> ownersOf = new LinkedHashMap<>();
    Map<Long, Replaced> replaced = new LinkedHashMap<>();
    for (Replaced r : batch) {
      IBaseResource version = fhir.parse(r.content(), Format.JSON);
      Set<String> o = owners.of(r.type(), version);
      if (!o.isEmpty()) {
        byType.computeIfAbsent(r.type(), t -> new ArrayList<>())
            .add(new PastVersionSearch.PastVersion(r.pk(), r.lastUpdated(), version));
        ownersOf.put(r.pk(), o);
        replaced.put(r.pk(), r);
      }
    }
    List<Long> pks = new ArrayList<>();
    List<Integer> versions = new ArrayList<>();
    List<String> types = new ArrayList<>();
    List<String> patients = new ArrayList<>();
    for (Map.Entry<String, List<PastVersionSearch.PastVersion>> e : byType.entrySet()) {
      List<SearchQuery> anyOf = s.filters().getOrDefault(e.getKey(), List.of());
      Set<Long> matched = anyOf.isEmpty() ? null : pastVersions.matching(connection, e.getKey(), anyOf, e.getValue());
      for (PastVersionSearch.PastVersion v : e.getValue()) {
        if (matched == null || matched.contains(v.pk())) {
          for (String patient : ownersOf.get(v.pk())) {
            pks.add(v.pk());
            versions.add(replaced.get(v.pk()).version());
            types.add(e.getKey());
            patients.add(patient);
          }
        }
      }
    }
    if (pks.isEmpty()) {
      return false;
    }
    try (PreparedStatement ps = connection.prepareStatement(PLACE)) {
      ps.setObject(1, s.jobId());
      ps.setInt(2, s.partNo());
      ps.setArray(3, connection.createArrayOf("bigint", pks.toArray()));
      ps.setArray(4, connection.createArrayOf("integer", versions.toArray()));
      ps.setArray(5, connection.createArrayOf("text", types.toArray()));
      ps.setArray(6, connection.createArrayOf("text", patients.toArray()));
      ps.executeUpdate();
    }
    return true;
  }

  /**
   * The COPY: content, the block's patient, type, pk. Every value in it is typed by this server
   * or inlined by {@link CopyLiteral}.
   */
  String sql(ExportScan.BlockScan s, boolean placed) {
    UUID job = s.jobId();
    String inScope = s.members()
        ? "exists (select 1 from export_member m where m.job_id = " + CopyLiteral.of(job) + " and m.patient_id = %s)"
        : "true";
    StringBuilder q = new StringBuilder(
        "select v.content, c.patient_id as owner, c.res_type, c.res_pk from compartment c"
            + " join resource r on r.pk = c.res_pk"
            + " join resource_version v on v.pk = r.pk and v.version = r.version"
            + " where c.res_type = any(").append(CopyLiteral.of(s.types().toArray(String[]::new))).append(')')
        .append(range("c.patient_id", s.patients()))
        // the current version, stamped by T: the version at T, unchanged since
        .append(" and not r.deleted and r.last_updated <= ").append(CopyLiteral.of(s.at()));
    if (s.since() != null) {
      q.append(" and r.last_updated > ").append(CopyLiteral.of(s.since()));
    }
    if (s.members()) {
      q.append(" and ").append(inScope.formatted("c.patient_id"));
    }
    String first = "not exists (select 1 from compartment c2 where c2.res_pk = c.res_pk and c2.patient_id < c.patient_id"
        + (s.members() ? " and " + inScope.formatted("c2.patient_id") : "") + ")";
    // a Patient heads its own block when its own compartment is exported; other resources go to the first patient
    q.append(" and case when c.res_type = 'Patient' and ").append(inScope.formatted("r.res_id"))
        .append(" then c.patient_id = r.res_id else ").append(first).append(" end");
    if (!s.filters().isEmpty()) {
      q.append(" and case c.res_type");
      for (Map.Entry<String, List<SearchQuery>> e : new TreeMap<>(s.filters()).entrySet()) {
        q.append(" when ").append(CopyLiteral.of(e.getKey())).append(" then (");
        for (int i = 0; i < e.getValue().size(); i++) {
          SearchSql.Fragment f = searchSql.where(e.getValue().get(i), "c.res_pk");
          q.append(i == 0 ? "" : " or ").append('(').append(CopyLiteral.inline(f.sql(), f.params())).append(')');
        }
        q.append(')');
      }
      q.append(" else true end");
    }
    if (!placed) {
      return q.append(" order by c.patient_id, c.res_type <> 'Patient', c.res_type, c.res_pk").toString();
    }
    String placedSql = "select v.content, o.owner, o.res_type, o.res_pk from (select res_pk, version, res_type,"
        + " min(patient_id) as owner from export_block_owner where job_id = " + CopyLiteral.of(job)
        + " and part_no = " + s.partNo() + " group by res_pk, version, res_type) o"
        + " join resource_version v on v.pk = o.res_pk and v.version = o.version where true"
        + range("o.owner", s.patients());
    return "select * from (" + q + " union all " + placedSql + ") b"
        + " order by b.owner, b.res_type <> 'Patient', b.res_type, b.res_pk";
  }

  private static String range(String column, PatientRange r) {
    String sql = "";
    if (r.after() != null) {
      sql += " and " + column + " > " + CopyLiteral.of(r.after());
    }
    if (r.to() != null) {
      sql += " and " + column + " <= " + CopyLiteral.of(r.to());
    }
    return sql;
  }

  /** Streams content, owner and type of each row (binary COPY, four fields). */
  private static long copy(Connection connection, String sql, Runnable poison, ExportScan.BlockSink sink)
      throws SQLException, IOException {
    CopyOut copy = connection.unwrap(PGConnection.class).getCopyAPI()
        .copyOut("copy (" + sql + ") to stdout (format binary)");
    long rows = 0;
    byte[] ownerBytes = new byte[0];
    String owner = null;
    byte[] typeBytes = new byte[0];
    String type = null;
    try {
      boolean header = true;
      byte[] m;
      while ((m = copy.readFromCopy()) != null) {
        int p = 0;
        if (header) {
          // signature (11 bytes), flags (4), header extension length (4) and extension
          p = 15;
          p += 4 + ExportScan.int32(m, p);
          header = false;
        }
        while (p < m.length) {
          int fields = (short) (((m[p] & 0xff) << 8) | (m[p + 1] & 0xff));
          p += 2;
          if (fields == -1) {
            break;
          }
          int contentLength = ExportScan.int32(m, p);
          int content = p + 4;
          p = content + contentLength;
          int ownerLength = ExportScan.int32(m, p);
          int ownerAt = p + 4;
          p = ownerAt + ownerLength;
          int typeLength = ExportScan.int32(m, p);
          int typeAt = p + 4;
          p = typeAt + typeLength;
          p += 4 + ExportScan.int32(m, p);
          if (!Arrays.equals(m, ownerAt, ownerAt + ownerLength, ownerBytes, 0, ownerBytes.length)) {
            ownerBytes = Arrays.copyOfRange(m, ownerAt, ownerAt + ownerLength);
            owner = new String(ownerBytes, java.nio.charset.StandardCharsets.UTF_8);
          }
          if (!Arrays.equals(m, typeAt, typeAt + typeLength, typeBytes, 0, typeBytes.length)) {
            typeBytes = Arrays.copyOfRange(m, typeAt, typeAt + typeLength);
            type = new String(typeBytes, java.nio.charset.StandardCharsets.UTF_8);
          }
          sink.row(owner, type, m, content, contentLength);
          rows++;
        }
      }
    } finally {
      if (copy.isActive()) {
        // as in ExportScan: a COPY left part-way makes the connection unfit for the pool
        poison.run();
        try {
          copy.cancelCopy();
        } catch (SQLException e) {
          // the sink's exception is the one to report; the connection is evicted anyway
        }
      }
    }
    return rows;
  }

  /** A version replaced after T, as read, before it is judged. */
  private record Replaced(long pk, int version, String type, Instant lastUpdated, byte[] content) {}
}

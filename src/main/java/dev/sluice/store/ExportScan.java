package dev.sluice.store;

import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.search.SearchQuery;
import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reads of an export: type statistics for planning, and the scans of one part. A part's
 * resources are read with {@code COPY (select content ...) TO STDOUT (FORMAT binary)}: the
 * stored bytes arrive one row per message, unescaped, so memory holds one resource at a
 * time whatever its size, and nothing is parsed.
 *
 * <p>Patient compartment membership ({@code compartment}) and the search index are those of
 * each resource's <em>current</em> version. A scan that selects by membership or by
 * {@code _typeFilter} trusts them only for the resources whose version current at
 * transactionTime is still current (one COPY, as above); the versions replaced after it
 * (updated, moved or deleted since: the changes between kick-off and scan, few unless
 * {@code _until} is far in the past) are read next, in bounded batches, parsed, and judged by
 * their own content: membership by the caller's {@link VersionTest}, the filter by
 * {@link PastVersionSearch} (the same search SQL over the rows computed for them). Both reads
 * run in one repeatable-read transaction, so from one snapshot: a resource changed while the
 * part runs is streamed once.
 *
 * <p>Plans: that transaction's {@code SET LOCAL} settings steer two of them, each measured
 * (bench/README.md, "Export levels"). A shared part runs no parallel plan, so its lateral
 * subquery over its types (or UNION ALL, with {@code _typeFilter}) streams type after type; a
 * Patient-level part runs without hash joins nor parallel plans, so its semi join on
 * {@code compartment} is a merge with the index {@code compartment_res} in pk order
 * (bench/levels-sql.sh). The settings hold for the whole transaction, so the same part's
 * read of the versions replaced since T ({@link #REPLACED}, a self-join) runs under them too,
 * unmeasured (the benches change nothing after T); reads outside those two transactions keep the
 * planner's choice.
 */
public final class ExportScan {
  private static final Logger log = LoggerFactory.getLogger(ExportScan.class);
  /** Which resources of the scanned type a part keeps. */
  public enum Membership {
    /** every resource (system level) */
    ALL,
    /** resources in any Patient compartment (Patient level) */
    ANY_COMPARTMENT,
    /** resources in the compartment of one of the job's export_member patients */
    MEMBERS
  }

  /**
   * What one part reads: the versions of one type in a pk range current at {@code at} that
   * match any of {@code anyOf} ({@code _typeFilter}; every version when empty).
   */
  public record ResourceScan(
      UUID jobId, String type, long pkFrom, long pkTo, Instant at, Instant since, Membership membership,
      List<SearchQuery> anyOf) {
    public ResourceScan {
      anyOf = List.copyOf(anyOf);
    }

    /** False when every version at {@code at} can be judged by SQL alone (one COPY, no parsing). */
    boolean judgesReplaced() {
      return membership != Membership.ALL || !anyOf.isEmpty();
    }
  }

  /** Receives the bytes of each row to export; valid only during the call. */
  @FunctionalInterface
  public interface RowSink {
    void row(byte[] buffer, int offset, int length) throws IOException;
  }

  /**
   * Receives the rows of a shared part's scans ({@link Session#scanShared}): each row with the
   * index of its scan, and the end of each scan's rows, after which nothing more of it comes
   * (its files can be closed). Every scan is ended exactly once.
   */
  public interface SharedSink {
    void row(int scan, byte[] buffer, int offset, int length) throws IOException;

    void ended(int scan) throws IOException, SQLException;
  }

  /**
   * Tells whether a version replaced after transactionTime was in the compartments the scan
   * selects ({@link Membership}); not asked for {@link Membership#ALL}.
   */
  @FunctionalInterface
  public interface VersionTest {
    boolean test(String type, IBaseResource version) throws SQLException;
  }

  /** Bounds one batch of replaced versions held in memory while they are judged. */
  public record ReplacedBatch(int rows, long bytes) {
    public ReplacedBatch {
      if (rows < 1 || bytes < 1) {
        throw new IllegalArgumentException("a batch holds at least one row and one byte");
      }
    }
  }

  /** Receives each deletion: type, id, and the content of the version before it (when asked). */
  @FunctionalInterface
  public interface DeletionSink {
    void deleted(String type, String id, byte[] previous) throws IOException;
  }

  /**
   * The versions of one type in a pk range that an export at {@code at} holds besides the
   * current ones ({@code includeAssociatedData}): stamped at or before {@code at} (and after
   * {@code since} when given).
   */
  public record VersionScan(String type, long pkFrom, long pkTo, Instant at, Instant since) {}

  /** Receives each deleted resource: its id, the deletion's version and time, the content of the last version before it. */
  @FunctionalInterface
  public interface SoftDeletionSink {
    void deleted(String id, int version, Instant lastUpdated, byte[] previous) throws IOException;
  }

  /**
   * What one part of an organized export reads ({@code organizeOutputBy=Patient}): the
   * compartments of the patients in {@code patients}, of these types, as at {@code at}.
   *
   * @param members the job's export_member patients only; every patient's otherwise
   * @param filters {@code _typeFilter} per type (OR'ed); a type without is exported whole
   */
  public record BlockScan(UUID jobId, int partNo, PatientRange patients, List<String> types, Instant at,
      Instant since, boolean members, java.util.Map<String, List<SearchQuery>> filters) {
    public BlockScan {
      types = List.copyOf(types);
      filters = java.util.Map.copyOf(filters);
    }
  }

  /**
   * The exported patients whose compartments held a version replaced after transactionTime,
   * judged from its content: for a Patient its own id alone when its own compartment is
   * exported. Empty when the version is in none.
   */
  @FunctionalInterface
  public interface Owners {
    Set<String> of(String type, IBaseResource version) throws SQLException;
  }

  /** Receives each row of an organized scan, in block order; the bytes are valid only during the call. */
  @FunctionalInterface
  public interface BlockSink {
    void row(String patient, String type, byte[] buffer, int offset, int length) throws IOException;
  }

  /** One type's rows in {@code resource} (current, whatever their state), for planning. */
  public record TypeStats(String type, long count, long minPk, long maxPk) {}

  private static final String TYPE_STATS =
      "select res_type, count(*), min(pk), max(pk) from resource where res_type = any(?) group by res_type order by 1";

  private static final String PATIENT_COUNTS =
      "select patient_id, count(*) from compartment %s group by patient_id order by patient_id";

  // By the resource's key (resource_type_id), then its own versions (the primary key):
  // resource_version has no index on res_id, and by (res_type, last_updated) it read every
  // version of every Group up to T to find one.
  private static final String READ_AT =
      """
      select v.deleted, v.content from resource r join resource_version v on v.pk = r.pk
       where r.res_type = ? and r.res_id = ? and v.last_updated <= ? and (v.valid_to is null or v.valid_to > ?)
      """;

  private static final String DELETIONS =
      """
      select v.res_type, v.res_id, %s from resource_version v
       where v.deleted and v.last_updated > ? and v.last_updated <= ? and (v.valid_to is null or v.valid_to > ?)
         and v.res_type = any(?)
       order by v.last_updated, v.pk
      """;
  private static final String PREVIOUS_CONTENT =
      "(select p.content from resource_version p where p.pk = v.pk and p.version = v.version - 1)";

  /**
   * The versions of a pk range current at T but replaced since (and stamped after {@code _since}
   * when given), found from their successors: the versions stamped after T, by index.
   */
  private static final String REPLACED =
      """
      select v.pk, v.last_updated, v.content from resource_version n
        join resource_version v on v.pk = n.pk and v.version = n.version - 1
       where n.res_type = ? and n.last_updated > ? and n.pk between ? and ?
         and v.last_updated <= ? and v.valid_to > ? and not v.deleted
         and v.last_updated > coalesce(?::timestamptz, '-infinity')
      """;

  /** The types among {@code any(?)} that have a version {@link #REPLACED} would read: the same conditions. */
  private static final String REPLACED_TYPES =
      """
      select distinct n.res_type from resource_version n
        join resource_version v on v.pk = n.pk and v.version = n.version - 1
       where n.res_type = any(?) and n.last_updated > ? and n.pk between ? and ?
         and v.last_updated <= ? and v.valid_to > ? and not v.deleted
         and v.last_updated > coalesce(?::timestamptz, '-infinity')
      """;

  /**
   * The deletion versions of a pk range: the deletions current at T (the %s condition), or every
   * deletion stamped by T, also one undone since by a re-create; with the content of the last
   * version before each (null when there is none).
   */
  private static final String SOFT_DELETED =
      """
      select v.res_id, v.version, v.last_updated,
             (select p.content from resource_version p
               where p.pk = v.pk and p.version < v.version and not p.deleted order by p.version desc limit 1)
        from resource_version v
       where v.res_type = ? and v.pk between ? and ? and v.deleted and v.last_updated <= ?
         and v.last_updated > coalesce(?::timestamptz, '-infinity') %s
       order by v.pk, v.version
      """;

  /** No parallel plan: a shared part's UNION ALL then streams its types one after the other. */
  private static final String NO_PARALLEL = "; set local max_parallel_workers_per_gather = 0";
  /**
   * No hash join and no parallel plan: a Patient-level part's merge semi join
   * ({@code mergesCompartments}). With hash joins alone off the planner still chose, for some
   * parts, a parallel nested loop probing {@code compartment_res} once per version (slower:
   * bench/levels-sql.sh).
   */
  private static final String MERGED_COMPARTMENTS = NO_PARALLEL + "; set local enable_hashjoin = off";

  private final DataSource dataSource;
  private final int deletionFetchSize;
  private final FhirModel fhir;
  private final SearchSql searchSql;
  private final PastVersionSearch pastVersions;
  private final ReplacedBatch replacedBatch;
  private final PatientBlockScan blockScan;
  private final ProvenanceChanges provenanceChanges;

  public ExportScan(DataSource dataSource, int deletionFetchSize, FhirModel fhir, SearchSql searchSql,
      PastVersionSearch pastVersions, ReplacedBatch replacedBatch) {
    this.dataSource = dataSource;
    this.deletionFetchSize = deletionFetchSize;
    this.fhir = fhir;
    this.searchSql = searchSql;
    this.pastVersions = pastVersions;
    this.replacedBatch = replacedBatch;
    this.blockScan = new PatientBlockScan(fhir, searchSql, pastVersions, replacedBatch);
    this.provenanceChanges = new ProvenanceChanges(fhir, searchSql, pastVersions);
  }

  /**
   * Cuts the patients with compartment rows (those of {@code members}, or all when null) into
   * ranges of about {@code perPart} compartment rows, in the database's order of ids. The ranges
   * cover every id: the first is open below, the last above, so a patient whose compartment
   * held a resource at transactionTime but holds none now still falls in one.
   */
  public List<PatientRange> patientRanges(Collection<String> members, long perPart) throws SQLException {
    List<PatientRange> ranges = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(PATIENT_COUNTS.formatted(members == null ? ""
          : "where patient_id = any(?)"))) {
        if (members != null) {
          ps.setArray(1, c.createArrayOf("text", members.toArray()));
        }
        // a cursor: one row per patient, never all of them at once
        ps.setFetchSize(1000);
        String after = null;
        long rows = 0;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            rows += rs.getLong(2);
            if (rows >= perPart) {
              ranges.add(new PatientRange(after, rs.getString(1)));
              after = rs.getString(1);
              rows = 0;
            }
          }
        }
        ranges.add(new PatientRange(after, null));
        c.commit();
      } finally {
        c.rollback();
      }
    }
    return ranges;
  }

  public List<TypeStats> typeStats(Collection<String> types) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(TYPE_STATS)) {
      ps.setArray(1, c.createArrayOf("text", types.toArray()));
      List<TypeStats> stats = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stats.add(new TypeStats(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
        }
      }
      return stats;
    }
  }

  /**
   * The planning of an export of some patients' compartments (a Group, or {@code patient}), in
   * proportion to them and to the changes since {@code at}, not to the table: per type, the
   * compartment rows of these patients (of current versions, by the primary key's
   * {@code patient_id} prefix), and every type with a version stamped after {@code at} (a version
   * current at {@code at} and replaced since may have been in their compartments: the part
   * judges it by its content), each over the table's whole pk range.
   */
  public List<TypeStats> memberTypeStats(Collection<String> patients, Collection<String> types, Instant at)
      throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(MEMBER_TYPE_STATS)) {
      Array typeArray = c.createArrayOf("text", types.toArray());
      ps.setArray(1, c.createArrayOf("text", patients.toArray()));
      ps.setArray(2, typeArray);
      ps.setTimestamp(3, Timestamp.from(at));
      ps.setArray(4, typeArray);
      List<TypeStats> stats = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stats.add(new TypeStats(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
        }
      }
      return stats;
    }
  }

  private static final String MEMBER_TYPE_STATS =
      """
      with bounds as (select min(pk) lo, max(pk) hi from resource),
           rows as (select res_type, count(*) n from compartment
                     where patient_id = any(?) and res_type = any(?) group by res_type),
           changed as (select distinct res_type from resource_version where last_updated > ? and res_type = any(?))
      select t.res_type, coalesce(rows.n, 0), bounds.lo, bounds.hi
        from (select res_type from rows union select res_type from changed) t
        left join rows using (res_type) cross join bounds
       order by 1
      """;

  /** About this many of resource_version's pages are read for {@link #typeSizes()}. */
  private static final long SIZE_SAMPLE_PAGES = 1_000;

  private static final String TABLE_PAGES =
      "select pg_relation_size('resource_version') / current_setting('block_size')::bigint";

  // octet_length of a TOASTed value reads its pointer only, not the value
  private static final String TYPE_SIZES =
      "select res_type, avg(octet_length(content))::bigint from resource_version tablesample system (?)"
          + " where not deleted group by res_type";

  /**
   * The mean stored size of a resource per type, from a sample of about {@value #SIZE_SAMPLE_PAGES}
   * of resource_version's pages (whole pages at random, so a few milliseconds whatever the table's
   * size; a small table is read whole).
   */
  public TypeSizes typeSizes() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      long pages;
      try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(TABLE_PAGES)) {
        rs.next();
        pages = rs.getLong(1);
      }
      try (PreparedStatement ps = c.prepareStatement(TYPE_SIZES)) {
        ps.setDouble(1, pages <= SIZE_SAMPLE_PAGES ? 100 : 100.0 * SIZE_SAMPLE_PAGES / pages);
        Map<String, Long> means = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            means.put(rs.getString(1), rs.getLong(2));
          }
        }
        return new TypeSizes(means);
      }
    }
  }

  /** The content of the version of a resource current at {@code at}; empty when none or deleted. */
  public Optional<byte[]> readAt(String type, String id, Instant at) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(READ_AT)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setTimestamp(3, Timestamp.from(at));
      ps.setTimestamp(4, Timestamp.from(at));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getBoolean(1)) {
          return Optional.empty();
        }
        return Optional.of(rs.getBytes(2));
      }
    }
  }

  /** A connection held for the scans of one part, which another thread may cancel. */
  public Session open() throws SQLException {
    return new Session(dataSource.getConnection());
  }

  /** One part's connection. {@link #cancel} may be called from any thread. */
  public final class Session implements AutoCloseable {
    private final Connection connection;
    private boolean poisoned;

    private Session(Connection connection) {
      this.connection = connection;
    }

    /** Stops the statement running on this session; the scan then throws. */
    public void cancel() {
      try {
        connection.unwrap(PGConnection.class).cancelQuery();
      } catch (SQLException e) {
        // best effort: the scan also stops at its next check of the lease
      }
    }

    /**
     * Streams the versions {@code s} selects into {@code sink}; {@code inScope} judges the
     * replaced ones when the scan selects by membership.
     *
     * @return the number of rows written to the sink
     */
    public long scan(ResourceScan s, VersionTest inScope, RowSink sink) throws SQLException, IOException {
      if (!s.judgesReplaced()) {
        return copy(sql(s), sink);
      }
      // one snapshot for both reads, so a resource changed in between is read once
      return inSnapshot(mergesCompartments(s) ? MERGED_COMPARTMENTS : "",
          () -> copy(sql(s), sink) + replaced(s, inScope, sink));
    }

    /**
     * True for a Patient-level part without {@code _typeFilter} (its search subqueries were not
     * measured): its COPY's semi join on {@code compartment} ({@link #from}) is then a merge of
     * {@code compartment_res} (index only) with the versions in pk order. The planner's own
     * choice, a parallel hash over a scan of the whole table or a hash of the range, cost a part
     * about twice the system part's time (bench/README.md, "Export levels").
     */
    private static boolean mergesCompartments(ResourceScan s) {
      return s.membership() == Membership.ANY_COMPARTMENT && s.anyOf().isEmpty();
    }

    /**
     * Streams the versions of every scan of a shared part (one pk range, one membership, a type
     * each) into {@code sink}: one snapshot, one COPY of all the types one after the other, each in
     * pk order, and one query for the types with versions replaced after transactionTime; a type
     * without any is ended as soon as the COPY has passed it, the others once their replaced
     * versions are judged and written ({@link #replaced}), after the COPY. So a part of many small
     * types costs one round of statements, not one per type, and holds at most one type's file
     * open at a time unless some changed since kick-off.
     *
     * @return the number of rows written to the sink
     */
    public long scanShared(List<ResourceScan> scans, VersionTest inScope, SharedSink sink)
        throws SQLException, IOException {
      ResourceScan first = scans.getFirst();
      for (ResourceScan s : scans) {
        if (s.pkFrom() != first.pkFrom() || s.pkTo() != first.pkTo() || s.membership() != first.membership()
            || !s.at().equals(first.at()) || !Objects.equals(s.since(), first.since())) {
          throw new IllegalArgumentException("the scans of a shared part differ in more than their type and filter");
        }
      }
      boolean[] ended = new boolean[scans.size()];
      long started = System.nanoTime();
      return inSnapshot(NO_PARALLEL, () -> {
        long snapshot = System.nanoTime();
        Set<String> changed = scans.stream().anyMatch(ResourceScan::judgesReplaced) ? replacedTypes(scans) : Set.of();
        long found = System.nanoTime();
        long[] passed = {0};
        long[] firstRow = {0};
        long rows = copyShared(sharedSql(scans), (scan, b, off, len) -> {
          if (firstRow[0] == 0) {
            firstRow[0] = System.nanoTime();
          }
          if (scan < passed[0]) {
            // its files are closed: the COPY's plan did not stream the types one after the other
            throw new IllegalStateException("a shared COPY returned to type " + scans.get(scan).type());
          }
          // the COPY went on to a later type: the ones before it are complete unless changed since
          for (; passed[0] < scan; passed[0]++) {
            end(scans, changed, ended, (int) passed[0], sink);
          }
          sink.row(scan, b, off, len);
        });
        long copied = System.nanoTime();
        log.debug("Shared scan of {} types: snapshot {} us, replaced types {} us, COPY to its first row {} us,"
            + " COPY {} us in all ({} rows)", scans.size(), (snapshot - started) / 1000, (found - snapshot) / 1000,
            firstRow[0] == 0 ? -1 : (firstRow[0] - found) / 1000, (copied - found) / 1000, rows);
        for (int i = 0; i < scans.size(); i++) {
          int scan = i;
          if (changed.contains(scans.get(i).type()) && scans.get(i).judgesReplaced()) {
            rows += replaced(scans.get(i), inScope, (b, off, len) -> sink.row(scan, b, off, len));
          }
          if (!ended[i]) {
            ended[i] = true;
            sink.ended(i);
          }
        }
        return rows;
      });
    }

    private static void end(List<ResourceScan> scans, Set<String> changed, boolean[] ended, int scan, SharedSink sink)
        throws IOException {
      if (ended[scan] || changed.contains(scans.get(scan).type())) {
        return;
      }
      ended[scan] = true;
      try {
        sink.ended(scan);
      } catch (SQLException e) {
        throw new IOException(e);
      }
    }

    /** Parameters 2 to 7 of {@code REPLACED} and {@code REPLACED_TYPES}: the scan's time, pk range and {@code _since}. */
    private static void bindReplacedWindow(PreparedStatement ps, ResourceScan s) throws SQLException {
      ps.setTimestamp(2, Timestamp.from(s.at()));
      ps.setLong(3, s.pkFrom());
      ps.setLong(4, s.pkTo());
      ps.setTimestamp(5, Timestamp.from(s.at()));
      ps.setTimestamp(6, Timestamp.from(s.at()));
      ps.setTimestamp(7, s.since() == null ? null : Timestamp.from(s.since()));
    }

    private Set<String> replacedTypes(List<ResourceScan> scans) throws SQLException {
      ResourceScan s = scans.getFirst();
      try (PreparedStatement ps = connection.prepareStatement(REPLACED_TYPES)) {
        ps.setArray(1, connection.createArrayOf("text", scans.stream().map(ResourceScan::type).toArray()));
        bindReplacedWindow(ps, s);
        Set<String> types = new HashSet<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            types.add(rs.getString(1));
          }
        }
        return types;
      }
    }

    /** Receives each row of a shared COPY with the index of its scan. */
    @FunctionalInterface
    private interface IndexedSink {
      void row(int scan, byte[] buffer, int offset, int length) throws IOException;
    }

    /** Reads that must see one snapshot. */
    @FunctionalInterface
    private interface SnapshotRead {
      long read() throws SQLException, IOException;
    }

    /** Runs {@code reads} in one repeatable-read, read-only transaction. */
    private long inSnapshot(SnapshotRead reads) throws SQLException, IOException {
      return inSnapshot("", reads);
    }

    /** The same, with the planner {@code settings} of that transaction only ({@link #NO_PARALLEL}, {@link #MERGED_COMPARTMENTS}). */
    private long inSnapshot(String settings, SnapshotRead reads) throws SQLException, IOException {
      boolean autoCommit = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try {
        try (Statement st = connection.createStatement()) {
          st.execute("set transaction isolation level repeatable read, read only" + settings);
        }
        long rows = reads.read();
        connection.commit();
        return rows;
      } finally {
        if (!poisoned) {
          connection.rollback();
          connection.setAutoCommit(autoCommit);
        }
      }
    }

    /**
     * Streams the blocks of the patients {@code s} covers, in block order ({@link PatientBlockScan}).
     *
     * @return the number of rows written to the sink
     */
    public long blocks(BlockScan s, Owners owners, BlockSink sink) throws SQLException, IOException {
      return blockScan.scan(connection, () -> poisoned = true, s, owners, sink);
    }

    private long copy(String sql, RowSink sink) throws SQLException, IOException {
      return copyRows(sql, false, (scan, b, off, len) -> sink.row(b, off, len));
    }

    /** A COPY of two columns: the scan's index (int4), then content. */
    private long copyShared(String sql, IndexedSink sink) throws SQLException, IOException {
      return copyRows(sql, true, sink);
    }

    private long copyRows(String sql, boolean indexed, IndexedSink sink) throws SQLException, IOException {
      CopyOut copy = connection.unwrap(PGConnection.class).getCopyAPI()
          .copyOut("copy (" + sql + ") to stdout (format binary)");
      long rows = 0;
      try {
        boolean header = true;
        byte[] message;
        while ((message = copy.readFromCopy()) != null) {
          int p = 0;
          if (header) {
            // signature (11 bytes), flags (4), header extension length (4) and extension
            p = 15;
            p += 4 + int32(message, p);
            header = false;
          }
          while (p < message.length) {
            int fields = (short) (((message[p] & 0xff) << 8) | (message[p + 1] & 0xff));
            p += 2;
            if (fields == -1) {
              break;
            }
            int scan = 0;
            if (indexed) {
              // the scan's index: an int4, never null
              scan = int32(message, p + 4);
              p += 8;
            }
            // content (never null: deletions are not selected)
            int length = int32(message, p);
            int content = p + 4;
            p = content + Math.max(length, 0);
            if (length >= 0) {
              sink.row(scan, message, content, length);
              rows++;
            }
          }
        }
      } finally {
        if (copy.isActive()) {
          // The sink failed part-way. A cancelled COPY OUT can leave the protocol out of step
          // (and the cancel request, sent on another socket, can hit the next statement), so
          // the connection must not go back to the pool: close() evicts it.
          poisoned = true;
          try {
            copy.cancelCopy();
          } catch (SQLException e) {
            // the sink's exception is the one to report; the connection is evicted anyway
          }
        }
      }
      return rows;
    }

    /**
     * The versions current at T but replaced since, read with a cursor and judged in batches
     * of at most {@link ReplacedBatch} rows and bytes: with {@code _until} far in the past they
     * are every resource changed since, so they are never all held at once.
     */
    private long replaced(ResourceScan s, VersionTest inScope, RowSink sink) throws SQLException, IOException {
      try (PreparedStatement ps = connection.prepareStatement(REPLACED)) {
        ps.setFetchSize(replacedBatch.rows());
        ps.setString(1, s.type());
        bindReplacedWindow(ps, s);
        long rows = 0;
        List<Replaced> batch = new ArrayList<>();
        long bytes = 0;
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Replaced r = new Replaced(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getBytes(3));
            batch.add(r);
            bytes += r.content().length;
            if (batch.size() >= replacedBatch.rows() || bytes >= replacedBatch.bytes()) {
              rows += judge(s, inScope, batch, sink);
              batch.clear();
              bytes = 0;
            }
          }
        }
        return rows + judge(s, inScope, batch, sink);
      }
    }

    /** Writes the versions of {@code batch} that were in scope and matched the filter, in their order. */
    private long judge(ResourceScan s, VersionTest inScope, List<Replaced> batch, RowSink sink)
        throws SQLException, IOException {
      List<PastVersionSearch.PastVersion> inScopeVersions = new ArrayList<>(batch.size());
      List<byte[]> contents = new ArrayList<>(batch.size());
      for (Replaced r : batch) {
        IBaseResource version = fhir.parse(r.content(), Format.JSON);
        if (s.membership() == Membership.ALL || inScope.test(s.type(), version)) {
          inScopeVersions.add(new PastVersionSearch.PastVersion(r.pk(), r.lastUpdated(), version));
          contents.add(r.content());
        }
      }
      Set<Long> matched = s.anyOf().isEmpty() ? null
          : pastVersions.matching(connection, s.type(), s.anyOf(), inScopeVersions);
      long rows = 0;
      for (int i = 0; i < contents.size(); i++) {
        if (matched == null || matched.contains(inScopeVersions.get(i).pk())) {
          sink.row(contents.get(i), 0, contents.get(i).length);
          rows++;
        }
      }
      return rows;
    }

    /**
     * Streams the earlier versions of {@code s}: replaced at or before T, not deletions, in pk
     * and version order; one binary COPY, like the current versions.
     *
     * @return the number of rows written to the sink
     */
    public long history(VersionScan s, RowSink sink) throws SQLException, IOException {
      return copy(historySql(s), sink);
    }

    /**
     * Streams the Provenance that {@code s} adds to an export: one binary COPY of those the index
     * judges, then those changed since T or with a target changed since ({@link ProvenanceChanges}).
     *
     * @return the number of rows written to the sink
     */
    public long provenance(ProvenanceScan s, VersionTest inScope, RowSink sink) throws SQLException, IOException {
      // one snapshot for both reads, so a Provenance changed in between is judged once
      return inSnapshot(() -> copy(s.sql(searchSql), sink) + provenanceChanges.write(connection, s, inScope, sink));
    }

    /**
     * Streams the deleted resources of {@code s}: those whose version at T is a deletion, or,
     * with {@code everyDeletion}, every deletion stamped by T (one later undone too, as history).
     */
    public void softDeleted(VersionScan s, boolean everyDeletion, SoftDeletionSink sink)
        throws SQLException, IOException {
      boolean autoCommit = connection.getAutoCommit();
      // a cursor streams only inside a transaction
      connection.setAutoCommit(false);
      try (PreparedStatement ps = connection.prepareStatement(SOFT_DELETED.formatted(everyDeletion ? ""
          : "and (v.valid_to is null or v.valid_to > ?)"))) {
        ps.setFetchSize(deletionFetchSize);
        ps.setString(1, s.type());
        ps.setLong(2, s.pkFrom());
        ps.setLong(3, s.pkTo());
        ps.setTimestamp(4, Timestamp.from(s.at()));
        ps.setTimestamp(5, s.since() == null ? null : Timestamp.from(s.since()));
        if (!everyDeletion) {
          ps.setTimestamp(6, Timestamp.from(s.at()));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sink.deleted(rs.getString(1), rs.getInt(2), rs.getTimestamp(3).toInstant(), rs.getBytes(4));
          }
        }
        connection.commit();
      } finally {
        connection.rollback();
        connection.setAutoCommit(autoCommit);
      }
    }

    /** Streams the deletions in {@code (since, at]} of the given types, oldest first. */
    public void deletions(Instant since, Instant at, Collection<String> types, boolean withPrevious, DeletionSink sink)
        throws SQLException, IOException {
      boolean autoCommit = connection.getAutoCommit();
      // a cursor streams only inside a transaction
      connection.setAutoCommit(false);
      try (PreparedStatement ps = connection.prepareStatement(
          DELETIONS.formatted(withPrevious ? PREVIOUS_CONTENT : "null::bytea"))) {
        ps.setFetchSize(deletionFetchSize);
        ps.setTimestamp(1, Timestamp.from(since));
        ps.setTimestamp(2, Timestamp.from(at));
        ps.setTimestamp(3, Timestamp.from(at));
        Array array = connection.createArrayOf("text", types.toArray());
        ps.setArray(4, array);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sink.deleted(rs.getString(1), rs.getString(2), rs.getBytes(3));
          }
        }
        connection.commit();
      } finally {
        connection.rollback();
        connection.setAutoCommit(autoCommit);
      }
    }

    @Override
    public void close() throws SQLException {
      if (poisoned && dataSource.isWrapperFor(HikariDataSource.class)) {
        dataSource.unwrap(HikariDataSource.class).evictConnection(connection);
        return;
      }
      connection.close();
    }
  }

  /** A version replaced after T, as read, before it is judged. */
  private record Replaced(long pk, Instant lastUpdated, byte[] content) {}

  static int int32(byte[] b, int p) {
    return ((b[p] & 0xff) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
  }

  /** The COPY of a history part; every value in it is typed by this server (see {@link CopyLiteral}). */
  String historySql(VersionScan s) {
    if (!s.type().matches("[A-Za-z]{1,64}")) {
      throw new IllegalArgumentException("not a resource type: " + s.type());
    }
    StringBuilder q = new StringBuilder("select v.content from resource_version v where v.res_type = ")
        .append(CopyLiteral.of(s.type()))
        .append(" and v.pk between ").append(s.pkFrom()).append(" and ").append(s.pkTo())
        .append(" and v.valid_to <= ").append(CopyLiteral.of(s.at()))
        .append(" and not v.deleted");
    if (s.since() != null) {
      q.append(" and v.last_updated > ").append(CopyLiteral.of(s.since()));
    }
    // version order, so that an import meets a resource's versions as they were written
    return q.append(" order by v.pk, v.version").toString();
  }

  /**
   * The COPY of a part; every value in it is typed by this server (see {@link CopyLiteral}).
   * One column, content. Without membership or filter it is every version current at
   * {@code at}; otherwise only those still current, selected through {@code compartment} and
   * the search index (the replaced ones are read by {@link #REPLACED}).
   */
  String sql(ResourceScan s) {
    return "select v.content " + from(s);
  }

  /**
   * The COPY of a shared part: each scan's rows ({@link #sql}) in pk order, one scan after the
   * other, each row led by the scan's index. Without {@code _typeFilter} the scans differ in
   * their type alone, so one body serves them all: a lateral subquery over the array of types,
   * planned once. A UNION ALL of a branch per type was planned branch by branch: 1.4 ms for 9
   * types and 2.2 ms for 15 against 0.3 ms, and the COPY of the 9 types of a Group of 10 took
   * 8.0 ms against 6.1 ms (bench/shared-sql.sh, best of 5; bench/README.md, "Export levels").
   * The nested loop over the types, like the UNION ALL's Append, emits them in the array's
   * order, each in pk order; {@link Session#scanShared} refuses a row that comes back to an
   * earlier type.
   */
  String sharedSql(List<ResourceScan> scans) {
    if (scans.stream().allMatch(s -> s.anyOf().isEmpty())) {
      String[] types = scans.stream().map(ExportScan::checkedType).toArray(String[]::new);
      return "select (s.i - 1)::int4, v.content from unnest(" + CopyLiteral.of(types) + ") with ordinality s(t, i)"
          + " cross join lateral (select v.content " + from(scans.getFirst(), "s.t") + " order by v.pk) v";
    }
    StringBuilder q = new StringBuilder();
    for (int i = 0; i < scans.size(); i++) {
      q.append(i == 0 ? "" : " union all ").append("(select ").append(i).append("::int4, v.content ")
          .append(from(scans.get(i))).append(" order by v.pk)");
    }
    return q.toString();
  }

  private String from(ResourceScan s) {
    return from(s, CopyLiteral.of(s.type()));
  }

  /** The scan's type, refused unless it is a type's name: it goes into SQL text (the lateral form names them all). */
  private static String checkedType(ResourceScan s) {
    if (!s.type().matches("[A-Za-z]{1,64}")) {
      throw new IllegalArgumentException("not a resource type: " + s.type());
    }
    return s.type();
  }

  /** @param type the SQL of the scan's type: its literal, or a column of the lateral form of {@link #sharedSql} */
  private String from(ResourceScan s, String type) {
    checkedType(s);
    StringBuilder q = new StringBuilder("from resource_version v where v.res_type = ")
        .append(type)
        .append(" and v.pk between ").append(s.pkFrom()).append(" and ").append(s.pkTo())
        .append(" and v.last_updated <= ").append(CopyLiteral.of(s.at()))
        .append(" and (v.valid_to is null or v.valid_to > ").append(CopyLiteral.of(s.at())).append(')')
        .append(" and not v.deleted");
    if (s.since() != null) {
      q.append(" and v.last_updated > ").append(CopyLiteral.of(s.since()));
    }
    if (!s.judgesReplaced()) {
      return q.toString();
    }
    q.append(" and v.valid_to is null");
    switch (s.membership()) {
      case ALL -> { }
      // the compartment rows of this range, by res_pk alone: compartment_res answers it without
      // the table (a row's res_type is its resource's, which v.pk already fixes), in pk order
      case ANY_COMPARTMENT -> q.append(" and exists (select 1 from compartment c where c.res_pk = v.pk")
          .append(" and c.res_pk between ").append(s.pkFrom()).append(" and ").append(s.pkTo()).append(')');
      // from the members: their compartment rows of this type and range by the primary key
      // (patient_id, res_type, res_pk), then the versions by pk, so the cost follows the
      // Group's size and not the table's. The pks as one sorted array: a single pass over
      // resource_version's primary key and its heap in pk order (not one random descent per
      // row), and a resource of two members read once
      case MEMBERS -> q.append(" and v.pk = any(array(select c.res_pk from export_member m join compartment c")
          .append(" on c.patient_id = m.patient_id and c.res_type = ").append(type)
          .append(" and c.res_pk between ").append(s.pkFrom()).append(" and ").append(s.pkTo())
          .append(" where m.job_id = ").append(CopyLiteral.of(s.jobId())).append(" order by 1))");
    }
    if (!s.anyOf().isEmpty()) {
      q.append(" and (");
      for (int i = 0; i < s.anyOf().size(); i++) {
        SearchSql.Fragment f = searchSql.where(s.anyOf().get(i), "v.pk");
        q.append(i == 0 ? "" : " or ").append('(').append(CopyLiteral.inline(f.sql(), f.params())).append(')');
      }
      q.append(')');
    }
    return q.toString();
  }
}

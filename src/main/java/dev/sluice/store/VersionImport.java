package dev.sluice.store;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.fhir.StoredJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.hl7.fhir.r4.model.InstantType;
import org.postgresql.util.PSQLState;

/**
 * Writes one batch of an import in one transaction: the versions its lines carry, with their
 * own versionId and lastUpdated, placed in each resource's history in version order; the
 * search index and compartments of the resources whose current version changed; and the
 * part's checkpoint, fenced by its lease. A line whose version exists with the same content
 * changes nothing (a second import of a file is a no-op); with other content, or with a
 * lastUpdated out of order with its neighbours, it is a refused line and the others go on.
 */
public final class VersionImport {
  private static final TimeZone UTC = TimeZone.getTimeZone("UTC");

  // local to the batch's transaction: how long it waits for a row another transaction holds

  private static final Instant YEAR_1 = Instant.parse("0001-01-01T00:00:00Z");
  private static final String CLOCK =
      "select pg_current_xact_id()::text, date_trunc('milliseconds', clock_timestamp())";

  // Every version of the batch's resources that exist, their rows locked in pk order so that
  // concurrent writers of the same resources wait instead of interleaving versions.
  private static final String HISTORY =
      """
      select r.res_type, r.res_id, r.pk, v.version, v.last_updated, v.deleted
        from %1$s r join %2$s v on v.pk = r.pk
       where (r.res_type, r.res_id) in (select * from unnest(?::text[], ?::text[]))
       order by r.pk, v.version
         for update of r
      """;

  private static final String CONTENT =
      "select pk, version, content from %2$s where (pk, version) in (select * from unnest(?::bigint[], ?::int[]))";

  private static final String INSERT_RESOURCE =
      """
      insert into %1$s (res_type, res_id, version, last_updated, deleted)
      select * from unnest(?::text[], ?::text[], ?::int[], ?::text[]::timestamptz[], ?::boolean[])
      on conflict (res_type, res_id) do nothing
      returning res_type, res_id, pk
      """;

  // Staging tables have no identity: their pks come from the live table's, so that the merge
  // keeps them and the index rows pointing at them. The sequence is looked up once per statement
  // (a subquery, run once): per row, that catalog lookup was 5 % of PostgreSQL's CPU in staging.
  // No ON CONFLICT: only another batch of the job can have created one of the resources since this
  // one read the stage, and its unique violation retries the batch as an empty RETURNING does on the
  // live table; the speculative insertion (a lookup before each insert, a token lock, one more WAL
  // record) was 6-7 % (bench/README.md, "Where PostgreSQL's CPU goes").
  private static final String INSERT_STAGED_RESOURCE =
      """
      insert into %1$s (pk, res_type, res_id, version, last_updated, deleted)
      select nextval((select pg_get_serial_sequence('resource', 'pk')::regclass)), *
        from unnest(?::text[], ?::text[], ?::int[], ?::text[]::timestamptz[], ?::boolean[])
      returning res_type, res_id, pk
      """;

  private static final String UPDATE_RESOURCE =
      "update %1$s set version = ?, last_updated = ?, deleted = ? where pk = ?";

  private static final String INSERT_VERSION =
      """
      insert into %2$s (pk, version, res_type, res_id, last_updated, valid_to, deleted, content)
      values (?, ?, ?, ?, ?, ?, ?, ?)
      """;

  private static final String SET_VALID_TO = "update %2$s set valid_to = ? where pk = ? and version = ?";

  /** Serialization failure (also our own "created concurrently") and deadlock: the batch can simply run again. */
  private static final Set<String> RETRYABLE =
      Set.of(PSQLState.SERIALIZATION_FAILURE.getState(), PSQLState.DEADLOCK_DETECTED.getState());
  private static final int MAX_TRIES = 10;

  private final DataSource dataSource;
  private final SearchIndexWriter indexer;

  public VersionImport(DataSource dataSource, FhirModel fhir, SearchIndexWriter indexer) {
    this.dataSource = dataSource;
    this.indexer = indexer;
  }

  /** What a batch did: whether it was committed, how many lines it imported, which it refused. */
  public record Result(boolean committed, long imported, List<ImportJobTable.LineError> refused) {}

  /** A version of one resource's history, as stored or as this batch adds it. */
  private static final class Version {
    final Instant at;
    final boolean deleted;
    final boolean added;
    byte[] content;
    final ImportedVersion source;

    Version(Instant at, boolean deleted, boolean added, byte[] content, ImportedVersion source) {
      this.at = at;
      this.deleted = deleted;
      this.added = added;
      this.content = content;
      this.source = source;
    }
  }

  /** One resource's versions and its pk (null when new). */
  private static final class History {
    final String type;
    final String id;
    Long pk;
    final TreeMap<Integer, Version> versions = new TreeMap<>();

    History(String type, String id) {
      this.type = type;
      this.id = id;
    }

    boolean changed() {
      return versions.values().stream().anyMatch(v -> v.added);
    }
  }

  /**
   * @param refused lines already refused by the parse, reported with this batch
   * @param nextLine the checkpoint after this batch: the first line of the next
   * @return committed false when the part was no longer this attempt's (nothing was written)
   */
  public Result write(ImportJobTable.ClaimedPart part, String owner, Duration lease, long nextLine,
      List<ImportedVersion> lines, List<ImportJobTable.LineError> refused) throws SQLException {
    return write(WriteTables.LIVE, part, owner, lease, nextLine, lines, refused);
  }

  /** As {@link #write}, into {@code tables}: an InitialLoad's staging tables, or the live ones. */
  public Result write(WriteTables tables, ImportJobTable.ClaimedPart part, String owner, Duration lease, long nextLine,
      List<ImportedVersion> lines, List<ImportJobTable.LineError> refused) throws SQLException {
    for (int attempt = 1; ; attempt++) {
      try {
        return writeOnce(tables, part, owner, lease, nextLine, lines, refused);
      } catch (SQLException e) {
        // another batch (an export's history file beside its current file) created one of this
        // batch's resources, or locked rows in another order: nothing was written, so the batch
        // is written again at once instead of waiting for its part's lease to lapse
        if (attempt >= MAX_TRIES || !RETRYABLE.contains(e.getSQLState())) {
          throw e;
        }
      }
    }
  }

  private Result writeOnce(WriteTables tables, ImportJobTable.ClaimedPart part, String owner, Duration lease,
      long nextLine,
      List<ImportedVersion> lines, List<ImportJobTable.LineError> refused) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        if (!ImportJobTable.hold(c, part, owner, lease)) {
          c.rollback();
          return new Result(false, 0, List.of());
        }
        SearchIndexWriter.Batch index = indexer.begin(c, tables);
        Instant clock = clock(c);
        Map<String, History> histories = load(c, tables, lines);
        List<ImportJobTable.LineError> errors = new ArrayList<>(refused);
        Map<String, Long> counts = new LinkedHashMap<>();
        long imported = 0;
        for (ImportedVersion line : lines) {
          History h = histories.get(key(line.type(), line.id()));
          String problem = place(h, line, clock);
          if (problem == null) {
            imported++;
            counts.merge(line.type(), 1L, Long::sum);
          } else {
            errors.add(new ImportJobTable.LineError(line.line(), outcome(part.inputUrl(), line.line(), problem)));
          }
        }
        store(c, tables, histories, index);
        index.flush();
        errors.sort((a, b) -> Long.compare(a.line(), b.line()));
        List<ImportJobTable.ImportedCount> countRows = new ArrayList<>();
        counts.forEach((t, n) -> countRows.add(new ImportJobTable.ImportedCount(t, n)));
        if (!ImportJobTable.checkpoint(c, part, owner, lease, nextLine, imported, countRows, errors)) {
          c.rollback();
          return new Result(false, 0, List.of());
        }
        c.commit();
        return new Result(true, imported, errors);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** The error file's line for a refused line. */
  public static byte[] outcome(String inputUrl, long line, String problem) {
    return OperationOutcomeJson.of(Issue.error(Issue.Code.PROCESSING,
        (line == 0 ? inputUrl : inputUrl + ", line " + line) + ": " + problem));
  }

  private static String sql(String template, WriteTables tables) {
    return template.formatted(tables.table("resource"), tables.table("resource_version"));
  }

  private static String key(String type, String id) {
    return type + "/" + id;
  }

  private static Instant clock(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CLOCK); ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getTimestamp(2).toInstant();
    }
  }

  /** The stored histories of the lines' resources, and the contents a comparison may need. */
  private static Map<String, History> load(Connection c, WriteTables tables, List<ImportedVersion> lines)
      throws SQLException {
    Map<String, History> histories = new HashMap<>();
    for (ImportedVersion line : lines) {
      histories.computeIfAbsent(key(line.type(), line.id()), k -> new History(line.type(), line.id()));
    }
    String[] types = new String[histories.size()];
    String[] ids = new String[histories.size()];
    int i = 0;
    for (History h : histories.values()) {
      types[i] = h.type;
      ids[i++] = h.id;
    }
    try (PreparedStatement ps = c.prepareStatement(sql(HISTORY, tables))) {
      ps.setArray(1, c.createArrayOf("text", types));
      ps.setArray(2, c.createArrayOf("text", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          History h = histories.get(key(rs.getString(1), rs.getString(2)));
          h.pk = rs.getLong(3);
          h.versions.put(rs.getInt(4), new Version(rs.getTimestamp(5).toInstant(), rs.getBoolean(6), false, null, null));
        }
      }
    }
    // contents to compare with: the versions the lines name, and the current ones for lines naming none
    List<Long> pks = new ArrayList<>();
    List<Integer> versions = new ArrayList<>();
    for (ImportedVersion line : lines) {
      History h = histories.get(key(line.type(), line.id()));
      if (h.pk == null) {
        continue;
      }
      Integer v = line.version() != null ? line.version() : h.versions.lastKey();
      Version stored = h.versions.get(v);
      if (stored != null && !stored.deleted && stored.content == null) {
        pks.add(h.pk);
        versions.add(v);
      }
    }
    if (!pks.isEmpty()) {
      Map<Long, History> byPk = new HashMap<>();
      histories.values().stream().filter(h -> h.pk != null).forEach(h -> byPk.put(h.pk, h));
      try (PreparedStatement ps = c.prepareStatement(sql(CONTENT, tables))) {
        ps.setArray(1, c.createArrayOf("int8", pks.toArray()));
        ps.setArray(2, c.createArrayOf("int4", versions.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            byPk.get(rs.getLong(1)).versions.get(rs.getInt(2)).content = rs.getBytes(3);
          }
        }
      }
    }
    return histories;
  }

  /**
   * Places a line's version in its resource's history.
   *
   * @return null when placed (or already there, the same), else why the line is refused
   */
  private static String place(History h, ImportedVersion line, Instant clock) {
    Integer named = line.version();
    if (named == null && !h.versions.isEmpty()) {
      Version current = h.versions.lastEntry().getValue();
      int v = h.versions.lastKey();
      if (line.deleted() ? current.deleted : same(h, v, current, line, current.at)) {
        return null;
      }
    }
    int v = named != null ? named : h.versions.isEmpty() ? 1 : h.versions.lastKey() + 1;
    Version existing = h.versions.get(v);
    if (existing != null) {
      boolean sameTime = line.lastUpdated() == null || line.lastUpdated().equals(existing.at);
      boolean same = sameTime && existing.deleted == line.deleted()
          && (line.deleted() || same(h, v, existing, line, existing.at));
      return same ? null : "version " + v + " of " + h.type + "/" + h.id + " exists with other content"
          + (sameTime ? "" : " (lastUpdated " + existing.at + ")") + "; a version is never changed";
    }
    var before = h.versions.lowerEntry(v);
    var after = h.versions.higherEntry(v);
    Instant at = line.lastUpdated();
    if (at == null) {
      if (after != null) {
        return "version " + v + " of " + h.type + "/" + h.id + " comes before version " + after.getKey()
            + " and so needs its meta.lastUpdated";
      }
      at = before != null && !clock.isAfter(before.getValue().at) ? before.getValue().at.plusMillis(1) : clock;
    }
    if (at.isBefore(YEAR_1)) {
      // PostgreSQL refused the batch (Instant's text of a year before 1), and the input failed whole
      return "meta.lastUpdated " + line.lastUpdated() + " of version " + v + " of " + h.type + "/" + h.id
          + " is before the year 1";
    }
    if (at.isAfter(clock)) {
      // an export at T sees the versions stamped at or before T: one stamped later than its
      // write would be missing from every export until then, and from the _since chain after
      return "meta.lastUpdated " + at + " of version " + v + " of " + h.type + "/" + h.id
          + " is in the future (this server's clock is at " + clock + ")";
    }
    if (before != null && !at.isAfter(before.getValue().at)) {
      return "meta.lastUpdated " + at + " of version " + v + " of " + h.type + "/" + h.id
          + " is not after that of version " + before.getKey() + " (" + before.getValue().at + ")";
    }
    if (after != null && !at.isBefore(after.getValue().at)) {
      return "meta.lastUpdated " + at + " of version " + v + " of " + h.type + "/" + h.id
          + " is not before that of version " + after.getKey() + " (" + after.getValue().at + ")";
    }
    byte[] content = line.deleted() ? null : stamp(line, v, at);
    h.versions.put(v, new Version(at, line.deleted(), true, content, line));
    return null;
  }

  /** Whether a stored (or added) version holds the line's content. */
  private static boolean same(History h, int v, Version stored, ImportedVersion line, Instant at) {
    return !stored.deleted && !line.deleted() && stored.content != null
        && Arrays.equals(stored.content, stamp(line, v, at));
  }

  private static byte[] stamp(ImportedVersion line, int version, Instant at) {
    return StoredJson.stamp(line.json(), line.type(), line.id(), Integer.toString(version), lastUpdated(at));
  }

  /** lastUpdated as every write stores it: milliseconds, UTC offset. */
  static String lastUpdated(Instant at) {
    return new InstantType(Date.from(at), TemporalPrecisionEnum.MILLI, UTC).getValueAsString();
  }

  private static void store(Connection c, WriteTables tables, Map<String, History> histories,
      SearchIndexWriter.Batch index) throws SQLException {
    List<History> changed = histories.values().stream().filter(History::changed)
        .sorted((a, b) -> a.type.equals(b.type) ? a.id.compareTo(b.id) : a.type.compareTo(b.type)).toList();
    List<History> fresh = changed.stream().filter(h -> h.pk == null).toList();
    if (!fresh.isEmpty()) {
      insertResources(c, tables, fresh);
    }
    Set<History> created = Collections.newSetFromMap(new IdentityHashMap<>());
    created.addAll(fresh);
    try (PreparedStatement update = c.prepareStatement(sql(UPDATE_RESOURCE, tables));
        PreparedStatement insert = c.prepareStatement(sql(INSERT_VERSION, tables));
        PreparedStatement validTo = c.prepareStatement(sql(SET_VALID_TO, tables))) {
      boolean updating = false;
      boolean inserting = false;
      boolean closing = false;
      for (History h : changed) {
        var entries = new ArrayList<>(h.versions.entrySet());
        for (int i = 0; i < entries.size(); i++) {
          var e = entries.get(i);
          Version next = i + 1 < entries.size() ? entries.get(i + 1).getValue() : null;
          Timestamp to = next == null ? null : Timestamp.from(next.at);
          if (e.getValue().added) {
            insert.setLong(1, h.pk);
            insert.setInt(2, e.getKey());
            insert.setString(3, h.type);
            insert.setString(4, h.id);
            insert.setTimestamp(5, Timestamp.from(e.getValue().at));
            insert.setTimestamp(6, to);
            insert.setBoolean(7, e.getValue().deleted);
            insert.setBytes(8, e.getValue().content);
            insert.addBatch();
            inserting = true;
          } else if (next != null && next.added) {
            validTo.setTimestamp(1, to);
            validTo.setLong(2, h.pk);
            validTo.setInt(3, e.getKey());
            validTo.addBatch();
            closing = true;
          }
        }
        var last = h.versions.lastEntry();
        if (last.getValue().added) {
          if (!created.contains(h)) {
            update.setInt(1, last.getKey());
            update.setTimestamp(2, Timestamp.from(last.getValue().at));
            update.setBoolean(3, last.getValue().deleted);
            update.setLong(4, h.pk);
            update.addBatch();
            updating = true;
          }
          if (last.getValue().deleted) {
            index.remove(h.pk);
          } else {
            // computed from the line on the reading side; a new pk has no rows to delete
            index.replace(h.pk, h.type, last.getValue().source.index(), created.contains(h));
          }
        }
      }
      if (updating) {
        update.executeBatch();
      }
      if (inserting) {
        insert.executeBatch();
      }
      if (closing) {
        validTo.executeBatch();
      }
    }
  }

  /** Inserts the resource rows of new resources, as their last version left them. */
  private static void insertResources(Connection c, WriteTables tables, List<History> fresh) throws SQLException {
    int n = fresh.size();
    String[] types = new String[n];
    String[] ids = new String[n];
    Integer[] versions = new Integer[n];
    String[] ats = new String[n];
    Boolean[] deleted = new Boolean[n];
    Map<String, History> byKey = new HashMap<>();
    for (int i = 0; i < n; i++) {
      History h = fresh.get(i);
      var last = h.versions.lastEntry();
      types[i] = h.type;
      ids[i] = h.id;
      versions[i] = last.getKey();
      ats[i] = last.getValue().at.toString();
      deleted[i] = last.getValue().deleted;
      byKey.put(key(h.type, h.id), h);
    }
    if (!tables.isLive()) {
      // staged keys come from the live table's identity sequence, found by name and not locked:
      // another InitialLoad's swap replaces that table and its sequence, and a batch taking keys
      // across its commit failed ("could not open relation") and waited for its lease to lapse.
      // Holding the live table for the batch makes a swap wait for it, and a batch after a swap
      // find the new sequence (InitialLoadSwapTest, two InitialLoads at once).
      try (Statement s = c.createStatement()) {
        s.execute("lock table resource in access share mode");
      }
    }
    try (PreparedStatement ps = c.prepareStatement(
        sql(tables.isLive() ? INSERT_RESOURCE : INSERT_STAGED_RESOURCE, tables))) {
      ps.setArray(1, c.createArrayOf("text", types));
      ps.setArray(2, c.createArrayOf("text", ids));
      ps.setArray(3, c.createArrayOf("int4", versions));
      ps.setArray(4, c.createArrayOf("text", ats));
      ps.setArray(5, c.createArrayOf("bool", deleted));
      int returned = 0;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byKey.get(key(rs.getString(1), rs.getString(2))).pk = rs.getLong(3);
          returned++;
        }
      } catch (SQLException e) {
        if (!tables.isLive() && PSQLState.UNIQUE_VIOLATION.getState().equals(e.getSQLState())) {
          throw new SQLException("A resource of the batch was staged concurrently",
              PSQLState.SERIALIZATION_FAILURE.getState(), e);
        }
        throw e;
      }
      if (returned != n) {
        // another writer created one of them since the batch read the histories: the batch is tried again
        throw new SQLException("A resource of the batch was created concurrently",
            PSQLState.SERIALIZATION_FAILURE.getState());
      }
    }
  }
}

package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * InitialLoad's fast path (docs/import.md). The job's batches go to staging tables of its own:
 * the live tables' columns, only the indexes the batches themselves read (a resource by type
 * and id, its versions, the rows to replace). Nobody else reads them, so nothing is visible
 * while the job runs. Once every input is staged, one transaction moves the rows into the live
 * tables and commits them at once: readers see the imported types empty, then whole. When the
 * import at least doubles the server (an empty server: the case InitialLoad is for), that
 * transaction drops the live tables' indexes and constraints first and builds them again in
 * bulk at the end, which costs a sort per index instead of a random B-tree insert per row.
 * A crash in the middle rolls it all back and the next merge starts again.
 *
 * <p>Into an empty server nothing is copied: the staging tables get the live tables' indexes
 * and keys, built on several connections, and then replace the live tables in the merge's
 * transaction (StageSwap). Otherwise the merge is one transaction on one connection, because
 * one commit is what makes the import visible whole; a second connection would be a second
 * transaction, visible on its own commit.
 */
public final class InitialLoadStage {
  private static final Logger log = LoggerFactory.getLogger(InitialLoadStage.class);

  /**
   * The indexes the batches read in their own staging tables (see VersionImport, SearchIndexWriter).
   * The index and compartment tables get their live lookup by res_pk (StageSwap.lookupIndexes), which
   * the swap keeps: a lookup of the staging tables' own was dropped there and the live one built
   * again, a sort of every index row (bench/README.md, "Where PostgreSQL's CPU goes").
   */
  static void create(Connection c, WriteTables stage) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String live : WriteTables.STAGED) {
        s.execute("create table " + stage.table(live) + " (like " + live + " including storage)");
      }
      s.execute("alter table " + stage.table("resource") + " add primary key (pk), add unique (res_type, res_id)");
      s.execute("alter table " + stage.table("resource_version") + " add primary key (pk, version)");
      Map<String, String> lookups = StageSwap.lookupIndexes(s, stage);
      for (String live : WriteTables.STAGED.subList(2, WriteTables.STAGED.size())) {
        s.execute(lookups.getOrDefault(live, "create index on " + stage.table(live) + " (res_pk)"));
      }
    }
  }

  static void drop(Connection c, WriteTables stage) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String live : WriteTables.STAGED.reversed()) {
        s.execute("drop table if exists " + stage.table(live));
      }
    }
  }

  /** What a merge did. */
  public sealed interface Outcome {
    /** Merged and the job completed, by {@code method}. */
    record Merged(long resources, Method method, long millis) implements Outcome {}

    /** A resource of the import was written by someone else meanwhile: nothing merged, the job failed. */
    record Conflict(String reference) implements Outcome {}

    /** The job was no longer waiting for its merge (cancelled, or merged by another process). */
    record Gone() implements Outcome {}
  }

  /** How the staged rows became live. */
  public enum Method {
    /** The live tables were empty: the staging tables, indexed, took their place (StageSwap). */
    SWAPPED,
    /** Copied into the live tables, whose indexes were dropped and built again in bulk. */
    REBUILT,
    /** Copied into the live tables, their indexes kept (the server held more than the import). */
    KEPT
  }

  /** What an index build may sort in memory, for the transaction that runs it. */
  static final String MAINTENANCE_WORK_MEM = "set local maintenance_work_mem = '128MB'";

  /** Connections the swap's index builds use at once (PostgreSQL's own parallel workers come on top). */
  private static final int SWAP_CONNECTIONS = Math.min(4, Math.max(2, Runtime.getRuntime().availableProcessors()));

  private final DataSource dataSource;

  public InitialLoadStage(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Moves a job's staged rows into the live tables and completes the job, in one transaction. */
  public Outcome merge(UUID job, WriteTables stage, java.time.Duration retention) throws SQLException {
    long started = System.nanoTime();
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        // the job row's lock: one merge at a time, and cancel waits for this one to end
        try (PreparedStatement ps = c.prepareStatement("select status from import_job where id = ? for update")) {
          ps.setObject(1, job);
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next() || !rs.getString(1).equals("merging")) {
              c.rollback();
              return new Outcome.Gone();
            }
          }
        }
        // before anything live is locked: the staging tables need no lock of the live ones to be
        // indexed. The first look is on a connection of its own, so that this transaction holds no
        // lock of a live table while it waits, in Java, for the indexes built on other connections:
        // a wait that passes through Java is invisible to PostgreSQL's deadlock detection, and
        // another merge would wait for those locks (the check that decides is the one under the lock)
        boolean swap;
        try (Connection look = dataSource.getConnection()) {
          swap = StageSwap.possible(look);
        }
        if (swap) {
          StageSwap.prepare(dataSource, stage, SWAP_CONNECTIONS);
        }
        long prepared = System.nanoTime();
        long staged = count(s, "select count(*) from " + stage.table("resource"));
        long live = count(s, "select count(*) from (select 1 from resource limit " + staged + ") r");
        boolean rebuild = swap || live < staged;
        // readers wait while the indexes are rebuilt or the tables swapped (they never see the tables
        // without them); otherwise only writers wait, so that none slips a resource in between check and insert
        s.execute("lock table " + String.join(", ", WriteTables.STAGED) + " in "
            + (rebuild ? "access exclusive" : "share row exclusive") + " mode");
        // a writer may have come in before the lock: then the rows are copied after all
        swap = swap && StageSwap.possible(c);
        String conflict = swap ? null : conflict(s, stage);
        if (conflict != null) {
          drop(c, stage);
          try (PreparedStatement ps = c.prepareStatement("update import_job set status = 'failed', finished_at = now(),"
              + " expires_at = now() + ?::interval, error_text = ?, stage = null where id = ?")) {
            ps.setString(1, retention.toMillis() + " milliseconds");
            ps.setString(2, conflict + " was written on this server while the InitialLoad ran, so the import was"
                + " not applied (nothing of it is visible); import the files again with IncrementalLoad");
            ps.setObject(3, job);
            ps.executeUpdate();
          }
          c.commit();
          return new Outcome.Conflict(conflict);
        }
        Method method;
        long moving;
        long building;
        if (swap) {
          moving = building = System.nanoTime();
          StageSwap.swap(c, stage);
          method = Method.SWAPPED;
        } else {
          s.execute(MAINTENANCE_WORK_MEM);
          List<String> rebuilds = rebuild ? dropIndexes(s) : List.of();
          moving = System.nanoTime();
          s.execute("insert into resource overriding system value select * from " + stage.table("resource"));
          for (String live2 : WriteTables.STAGED.subList(1, WriteTables.STAGED.size())) {
            s.execute("insert into " + live2 + " select * from " + stage.table(live2));
          }
          building = System.nanoTime();
          for (String ddl : rebuilds) {
            s.execute(ddl);
          }
          drop(c, stage);
          method = rebuild ? Method.REBUILT : Method.KEPT;
        }
        long built = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(
            "update import_job set status = 'completed', finished_at = now(), expires_at = now() + ?::interval,"
                + " stage = null where id = ?")) {
          ps.setString(1, retention.toMillis() + " milliseconds");
          ps.setObject(2, job);
          ps.executeUpdate();
        }
        c.commit();
        long millis = (System.nanoTime() - started) / 1_000_000;
        if (method == Method.SWAPPED) {
          log.info("Import {}: merged {} staged resources in {} ms (staging tables swapped in; indexed in {} ms,"
              + " swapped in {} ms)", job, staged, millis, (prepared - started) / 1_000_000, (built - building) / 1_000_000);
        } else {
          log.info("Import {}: merged {} staged resources in {} ms (indexes {}; rows moved in {} ms, indexes built in {} ms)",
              job, staged, millis, method == Method.REBUILT ? "rebuilt in bulk" : "kept", (building - moving) / 1_000_000,
              (built - building) / 1_000_000);
        }
        return new Outcome.Merged(staged, method, millis);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  private static long count(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** A staged resource that exists in the live table by now, as Type/id, or null. */
  private static String conflict(Statement s, WriteTables stage) throws SQLException {
    try (ResultSet rs = s.executeQuery("select s.res_type || '/' || s.res_id from " + stage.table("resource")
        + " s join resource r on r.res_type = s.res_type and r.res_id = s.res_id limit 1")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  /**
   * Drops the indexes and constraints of the live tables (foreign keys first) and returns the
   * statements that make them again, in an order that works: unique and primary keys, other
   * indexes, then foreign keys. Read from the catalog, so that they follow the migrations.
   */
  private static List<String> dropIndexes(Statement s) throws SQLException {
    String tables = WriteTables.LIVE.regclasses();
    List<String> drops = new ArrayList<>();
    List<String> keys = new ArrayList<>();
    List<String> indexes = new ArrayList<>();
    List<String> foreign = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        + " where contype = 'f' and (conrelid = any(" + tables + ") or confrelid = any(" + tables + "))")) {
      while (rs.next()) {
        drops.add("alter table " + rs.getString(1) + " drop constraint " + quote(rs.getString(2)));
        foreign.add("alter table " + rs.getString(1) + " add constraint " + quote(rs.getString(2)) + " "
            + rs.getString(3));
      }
    }
    try (ResultSet rs = s.executeQuery("select conrelid::regclass::text, conname, pg_get_constraintdef(oid) from pg_constraint"
        + " where contype in ('p', 'u') and conrelid = any(" + tables + ")")) {
      while (rs.next()) {
        drops.add("alter table " + rs.getString(1) + " drop constraint " + quote(rs.getString(2)));
        keys.add("alter table " + rs.getString(1) + " add constraint " + quote(rs.getString(2)) + " "
            + rs.getString(3));
      }
    }
    try (ResultSet rs = s.executeQuery("select i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) from pg_index i"
        + " where i.indrelid = any(" + tables + ")"
        + " and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid and k.contype in ('p', 'u', 'x'))")) {
      while (rs.next()) {
        drops.add("drop index " + rs.getString(1));
        indexes.add(rs.getString(2));
      }
    }
    for (String ddl : drops) {
      s.execute(ddl);
    }
    List<String> make = new ArrayList<>(keys);
    make.addAll(indexes);
    make.addAll(foreign);
    return make;
  }

  private static String quote(String name) {
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }
}

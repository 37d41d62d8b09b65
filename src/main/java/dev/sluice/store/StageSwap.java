package dev.sluice.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * An InitialLoad into an empty server: its staging tables become the live tables, instead of
 * their rows being copied into them. Before the merge's transaction locks anything live, the
 * staging tables get what the live ones have (indexes, keys, foreign keys, extended statistics,
 * storage options), built on several connections at once: nobody reads staging tables, so
 * nothing needs one transaction there. Then, in the merge's transaction and with the live
 * tables locked and still empty, the live tables are dropped and the staged ones renamed to
 * their names, with every index, constraint and statistics object, and the identity of
 * {@code resource.pk} given back with its sequence where it was. Readers see empty tables
 * before that commit and whole ones after it, as with a copy, and the catalog is the same as
 * before (InitialLoadSwapTest compares it).
 *
 * <p>Why: the copy (insert-select of every row, then a sort per index) ran on one connection,
 * a third of an InitialLoad on two cores (bench/README.md, "Import"); a rename costs nothing
 * and the index builds spread over the cores.
 *
 * <p>Failure policy: the preparation is made of single statements, each its own transaction and
 * each skipped when already done, so a crash in the middle leaves staging tables that the next
 * merge finishes preparing. The swap is refused, and the merge copies as before, when a live
 * table holds a row (a writer came in meanwhile; the preparation is then wasted, not wrong), or
 * when anything outside the tables this set knows depends on them (a view, a trigger, a foreign
 * key from another table: a later migration's, which the swap would otherwise lose).
 */
final class StageSwap {
  private static final Pattern INDEX = Pattern.compile("^CREATE (UNIQUE )?INDEX \\S+ ON (?:ONLY )?\\S+ USING (.+)$");
  private static final String LIVE_TABLES = WriteTables.LIVE.regclasses();
  private static final Pattern STATISTICS = Pattern.compile("^CREATE STATISTICS \\S+ (.+) FROM \\S+$");

  private StageSwap() {}

  /** An object of a live table and the name of its counterpart on the staging table. */
  private record Counterpart(String liveTable, String liveName, String stagedName, String ddl) {}

  /**
   * Whether the live tables are empty and nothing but their own indexes, constraints, sequences
   * and statistics depends on them: the case where the staged tables can simply replace them.
   */
  static boolean possible(Connection c) throws SQLException {
    try (Statement s = c.createStatement()) {
      for (String live : WriteTables.STAGED) {
        try (ResultSet rs = s.executeQuery("select exists (select 1 from " + live + ")")) {
          rs.next();
          if (rs.getBoolean(1)) {
            return false;
          }
        }
      }
      String tables = LIVE_TABLES;
      // other kinds of objects (views, triggers, policies, rules) and foreign keys from elsewhere
      try (ResultSet rs = s.executeQuery("select exists (select 1 from pg_depend d where d.refclassid = 'pg_class'::regclass"
          + " and d.refobjid = any(" + tables + ") and d.classid not in ('pg_type'::regclass,"
          + " 'pg_constraint'::regclass, 'pg_statistic_ext'::regclass) and not (d.classid = 'pg_class'::regclass"
          + " and (select relkind from pg_class where oid = d.objid) in ('i', 'S', 't')))"
          + " or exists (select 1 from pg_constraint where contype = 'f' and confrelid = any(" + tables + ")"
          + " and not conrelid = any(" + tables + "))"
          + " or exists (select 1 from pg_constraint where contype = 'f' and conrelid = any(" + tables + ")"
          + " and not confrelid = any(" + tables + "))")) {
        rs.next();
        return !rs.getBoolean(1);
      }
    }
  }

  /**
   * Gives the staging tables what the live ones have, on {@code connections} connections of
   * {@code dataSource} at once; each step is skipped when done already.
   */
  static void prepare(DataSource dataSource, WriteTables stage, int connections) throws SQLException {
    List<String> first = new ArrayList<>();
    List<Counterpart> builds = new ArrayList<>();
    java.util.Map<String, Long> sizes = new java.util.HashMap<>();
    List<String> last = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      List<Counterpart> indexes = indexes(s, stage);
      List<String> wanted = indexes.stream().map(Counterpart::stagedName).toList();
      // a staging table's own lookup index (InitialLoadStage.create, where no live one starts with res_pk)
      // is not a live one
      try (ResultSet rs = s.executeQuery("select i.indexrelid::regclass::text from pg_index i"
          + " where i.indrelid = any(" + stage.regclasses() + ")"
          + " and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid)")) {
        while (rs.next()) {
          if (!wanted.contains(rs.getString(1))) {
            first.add("drop index " + rs.getString(1));
          }
        }
      }
      for (Counterpart k : keys(s, stage)) {
        if (k.stagedName() == null) {
          builds.add(k);
        }
      }
      for (Counterpart i : indexes) {
        if (!exists(s, "select 1 from pg_class where relname = '" + i.stagedName() + "'")) {
          builds.add(i);
        }
      }
      for (String live : WriteTables.STAGED) {
        try (ResultSet rs = s.executeQuery("select pg_relation_size('" + stage.table(live) + "')")) {
          rs.next();
          sizes.put(live, rs.getLong(1));
        }
      }
      for (Counterpart f : foreignKeys(s, stage)) {
        if (!exists(s, "select 1 from pg_constraint where conname = '" + f.stagedName() + "' and conrelid = '"
            + stage.table(f.liveTable()) + "'::regclass")) {
          last.add(f.ddl());
        }
      }
      for (Counterpart st : statistics(s, stage)) {
        last.add(st.ddl());
      }
      try (ResultSet rs = s.executeQuery("select relname, array_to_string(reloptions, ', ') from pg_class"
          + " where oid = any(" + LIVE_TABLES + ") and reloptions is not null")) {
        while (rs.next()) {
          last.add("alter table " + stage.table(rs.getString(1)) + " set (" + rs.getString(2) + ")");
        }
      }
      for (String ddl : first) {
        s.execute(ddl);
      }
    }
    // the largest tables' builds first, so that the last to end is a small one
    builds.sort(java.util.Comparator.comparingLong((Counterpart b) -> sizes.get(b.liveTable())).reversed());
    runAll(dataSource, builds.stream().map(Counterpart::ddl).toList(), connections);
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
      for (String ddl : last) {
        s.execute(ddl);
      }
    }
  }

  /**
   * In the merge's transaction, the live tables locked and found empty: drops them and gives
   * the staged tables and their objects the live names. {@link #prepare} has run.
   */
  static void swap(Connection c, WriteTables stage) throws SQLException {
    try (Statement s = c.createStatement()) {
      List<String> renames = new ArrayList<>();
      for (Counterpart i : indexes(s, stage)) {
        renames.add("alter index " + i.stagedName() + " rename to " + i.liveName());
      }
      for (Counterpart k : keys(s, stage)) {
        if (k.stagedName() == null) {
          throw new SQLException("Staging table " + stage.table(k.liveTable()) + " lacks " + k.liveName());
        }
        renames.add("alter table " + k.liveTable() + " rename constraint " + k.stagedName() + " to " + k.liveName());
      }
      for (Counterpart f : foreignKeys(s, stage)) {
        renames.add("alter table " + f.liveTable() + " rename constraint " + f.stagedName() + " to " + f.liveName());
      }
      for (Counterpart st : statistics(s, stage)) {
        renames.add("alter statistics " + st.stagedName() + " rename to " + st.liveName());
      }
      List<String> identities = identities(s);
      s.execute("drop table " + String.join(", ", WriteTables.STAGED.reversed()));
      for (String live : WriteTables.STAGED) {
        s.execute("alter table " + stage.table(live) + " rename to " + live);
      }
      for (String ddl : renames) {
        s.execute(ddl);
      }
      for (String ddl : identities) {
        s.execute(ddl);
      }
    }
  }

  /**
   * The live tables' identity columns as statements that give them back after the swap, with
   * their sequence's name, options and position: staged rows took their keys from it.
   */
  private static List<String> identities(Statement s) throws SQLException {
    record Identity(String table, String column, boolean always, String sequence) {}
    List<Identity> columns = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("select c.relname, a.attname, a.attidentity = 'a',"
        + " pg_get_serial_sequence(c.relname, a.attname) from pg_attribute a join pg_class c on c.oid = a.attrelid"
        + " where a.attrelid = any(" + LIVE_TABLES + ") and a.attidentity <> '' and not a.attisdropped")) {
      while (rs.next()) {
        columns.add(new Identity(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getString(4)));
      }
    }
    List<String> ddl = new ArrayList<>();
    for (Identity id : columns) {
      try (ResultSet rs = s.executeQuery("select p.seqstart, p.seqincrement, p.seqmin, p.seqmax, p.seqcache, p.seqcycle,"
          + " q.last_value, q.is_called from pg_sequence p, " + id.sequence() + " q"
          + " where p.seqrelid = '" + id.sequence() + "'::regclass")) {
        rs.next();
        ddl.add("alter table " + id.table() + " alter column " + id.column() + " add generated "
            + (id.always() ? "always" : "by default") + " as identity (sequence name " + id.sequence()
            + " start with " + rs.getLong(1) + " increment by " + rs.getLong(2) + " minvalue " + rs.getLong(3)
            + " maxvalue " + rs.getLong(4) + " cache " + rs.getLong(5) + (rs.getBoolean(6) ? " cycle" : " no cycle")
            + ")");
        ddl.add("select setval('" + id.sequence() + "', " + rs.getLong(7) + ", " + rs.getBoolean(8) + ")");
      }
    }
    return ddl;
  }

  /** A live index whose columns start with res_pk: one row's lookup, which a partial index would not serve. */
  private static final Pattern RES_PK_FIRST = Pattern.compile(" using btree \\(res_pk(, \\w+)*\\)$");

  /**
   * For each live table with an index that starts with res_pk (the lookup a batch needs to delete
   * the old index rows of a resource staged by an earlier batch), the statement that builds it on
   * the staging table under the name {@link #prepare} looks for: made with the staging tables, it is
   * kept by the swap instead of being dropped for a build of the live one at the merge.
   */
  static Map<String, String> lookupIndexes(Statement s, WriteTables stage) throws SQLException {
    Map<String, String> out = new LinkedHashMap<>();
    for (Counterpart i : indexes(s, stage)) {
      if (RES_PK_FIRST.matcher(i.ddl()).find()) {
        out.putIfAbsent(i.liveTable(), i.ddl());
      }
    }
    return out;
  }

  /** The live tables' indexes that back no constraint, each with its staged name and the statement that builds it. */
  private static List<Counterpart> indexes(Statement s, WriteTables stage) throws SQLException {
    List<Counterpart> out = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("select t.relname, x.relname, pg_get_indexdef(i.indexrelid) from pg_index i"
        + " join pg_class t on t.oid = i.indrelid join pg_class x on x.oid = i.indexrelid"
        + " where i.indrelid = any(" + LIVE_TABLES + ")"
        + " and not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid) order by x.relname")) {
      while (rs.next()) {
        Matcher m = INDEX.matcher(rs.getString(3));
        if (!m.matches()) {
          throw new SQLException("Index definition not understood: " + rs.getString(3));
        }
        String definition = (m.group(1) == null ? "" : "unique ") + "index on " + rs.getString(1) + " using " + m.group(2);
        String staged = stagedName(stage, "i", definition);
        out.add(new Counterpart(rs.getString(1), rs.getString(2), staged, "create " + (m.group(1) == null ? "" : "unique ")
            + "index if not exists " + staged + " on " + stage.table(rs.getString(1)) + " using " + m.group(2)));
      }
    }
    return out;
  }

  /**
   * The live tables' primary keys and unique constraints, each with the staged constraint of the
   * same definition (null when there is none yet) and the statement that makes it.
   */
  private static List<Counterpart> keys(Statement s, WriteTables stage) throws SQLException {
    List<Counterpart> out = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("select t.relname, k.conname, pg_get_constraintdef(k.oid),"
        + " (select sk.conname from pg_constraint sk where sk.conrelid = ('" + stage.prefix() + "' || t.relname)::regclass"
        + "  and sk.contype = k.contype and pg_get_constraintdef(sk.oid) = pg_get_constraintdef(k.oid) limit 1)"
        + " from pg_constraint k join pg_class t on t.oid = k.conrelid"
        + " where k.contype in ('p', 'u') and k.conrelid = any(" + LIVE_TABLES + ") order by k.conname")) {
      int n = 0;
      while (rs.next()) {
        n++;
        out.add(new Counterpart(rs.getString(1), rs.getString(2), rs.getString(4),
            "alter table " + stage.table(rs.getString(1)) + " add constraint " + stage.table("k" + n) + " "
                + rs.getString(3)));
      }
    }
    return out;
  }

  /** The foreign keys between live tables, each pointing at the staged parent under its staged name. */
  private static List<Counterpart> foreignKeys(Statement s, WriteTables stage) throws SQLException {
    List<Counterpart> out = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("select t.relname, k.conname, pg_get_constraintdef(k.oid), p.relname"
        + " from pg_constraint k join pg_class t on t.oid = k.conrelid join pg_class p on p.oid = k.confrelid"
        + " where k.contype = 'f' and k.conrelid = any(" + LIVE_TABLES + ") order by k.conname")) {
      while (rs.next()) {
        String staged = stagedName(stage, "f", rs.getString(1) + " " + rs.getString(3));
        String def = rs.getString(3).replace("REFERENCES " + rs.getString(4) + "(",
            "REFERENCES " + stage.table(rs.getString(4)) + "(");
        out.add(new Counterpart(rs.getString(1), rs.getString(2), staged,
            "alter table " + stage.table(rs.getString(1)) + " add constraint " + staged + " " + def));
      }
    }
    return out;
  }

  /** The live tables' extended statistics objects, each with its staged name. */
  private static List<Counterpart> statistics(Statement s, WriteTables stage) throws SQLException {
    List<Counterpart> out = new ArrayList<>();
    try (ResultSet rs = s.executeQuery("select t.relname, x.stxname, pg_get_statisticsobjdef(x.oid) from pg_statistic_ext x"
        + " join pg_class t on t.oid = x.stxrelid where x.stxrelid = any(" + LIVE_TABLES + ") order by x.stxname")) {
      while (rs.next()) {
        Matcher m = STATISTICS.matcher(rs.getString(3));
        if (!m.matches()) {
          throw new SQLException("Statistics definition not understood: " + rs.getString(3));
        }
        String staged = stagedName(stage, "s", rs.getString(1) + " " + m.group(1));
        out.add(new Counterpart(rs.getString(1), rs.getString(2), staged, "create statistics if not exists " + staged
            + " " + m.group(1) + " from " + stage.table(rs.getString(1))));
      }
    }
    return out;
  }

  /**
   * A staged object's name, from its kind and its live definition, not its place in a list: after
   * a crash in the preparation and a migration that adds or changes one of the live objects, an
   * object built for one definition must not be taken for another (a leftover index is dropped,
   * {@link #prepare}). 59 characters at most, under PostgreSQL's 63.
   */
  private static String stagedName(WriteTables stage, String kind, String definition) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(definition.getBytes(StandardCharsets.UTF_8));
      return stage.table(kind + HexFormat.of().formatHex(digest, 0, 6));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
    }
  }

  private static boolean exists(Statement s, String query) throws SQLException {
    try (ResultSet rs = s.executeQuery("select exists (" + query + ")")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /** Runs independent statements, each in its own transaction, on up to {@code connections} connections. */
  private static void runAll(DataSource dataSource, List<String> statements, int connections) throws SQLException {
    if (statements.isEmpty()) {
      return;
    }
    ThreadFactory threads = Thread.ofPlatform().name("import-swap-", 0).daemon().factory();
    try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, connections), threads)) {
      List<Future<?>> done = new ArrayList<>();
      for (String ddl : statements) {
        done.add(pool.submit(() -> {
          try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
              s.execute(InitialLoadStage.MAINTENANCE_WORK_MEM);
              s.execute(ddl);
              c.commit();
            } catch (SQLException | RuntimeException e) {
              c.rollback();
              throw e;
            }
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        try {
          f.get();
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof SQLException sql) {
            throw sql;
          }
          throw new SQLException("Preparing the staging tables failed", e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new SQLException("Interrupted while preparing the staging tables", e);
        }
      }
    }
  }
}

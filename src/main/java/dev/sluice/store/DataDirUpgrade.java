package dev.sluice.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyOut;

/**
 * Moves a data directory made by an older PostgreSQL to the bundled one, on the operator's
 * command ({@code sluice upgrade-data-dir}). The embedded binaries have no pg_upgrade, so the
 * old cluster is started with its own binaries and read: a new cluster gets the same schema
 * (Flyway, to the old one's version) and every table's rows by COPY, then the row counts are
 * compared. Only then is {@code postgres/} renamed {@code postgres-<old major>/}, kept as the
 * backup, and the new cluster takes its place.
 */
public final class DataDirUpgrade {
  static final String NEW_CLUSTER = "postgres.upgrading";
  private static final String VERIFIED = "sluice-upgrade-verified";

  private final Path dataDir;
  private final PrintStream out;

  public DataDirUpgrade(Path dataDir, PrintStream out) {
    this.dataDir = dataDir;
    this.out = out;
  }

  /**
   * @param oldBinaries the binaries jar of the old major version; null fetches it from Maven Central
   * @throws DataDirRefused when the directory cannot be upgraded as it is; nothing changed then
   */
  public void run(Path oldBinaries) throws IOException, SQLException {
    try (DataDirLock lock = DataDirLock.acquire(dataDir, "upgrade-data-dir")) {
      Path pgData = dataDir.resolve("postgres");
      Path next = dataDir.resolve(NEW_CLUSTER);
      if (!Files.exists(pgData) && Files.exists(next.resolve(VERIFIED))) {
        finish(pgData, next, dataDir.resolve(Files.readString(next.resolve(VERIFIED)).trim()));
        return;
      }
      if (!Files.exists(pgData.resolve("PG_VERSION"))) {
        throw new DataDirRefused("no PostgreSQL data directory in " + pgData);
      }
      int major = Integer.parseInt(Files.readString(pgData.resolve("PG_VERSION")).trim());
      if (major == EmbeddedPostgresServer.BUNDLED_MAJOR) {
        out.println(pgData + " is already PostgreSQL " + major + "; nothing to do");
        return;
      }
      Path backup = dataDir.resolve("postgres-" + major);
      if (Files.exists(backup)) {
        throw new DataDirRefused(backup + " exists; move it away first (nothing was changed)");
      }
      if (oldBinaries == null && !PostgresBinaries.canFetch(major)) {
        throw new DataDirRefused("no known PostgreSQL " + major + " binaries to fetch; give them with --old-binaries");
      }
      PostgresBinaries binaries = oldBinaries != null ? PostgresBinaries.of(oldBinaries)
          : PostgresBinaries.fetch(major, Path.of(System.getProperty("java.io.tmpdir"), "sluice-postgres-binaries"));
      if (Files.exists(next)) {
        out.println("Removing " + next + " left by an upgrade that did not finish");
        deleteTree(next);
      }
      EmbeddedPostgresServer.stopOrphanedPostmaster(pgData);
      Path passwordFile = dataDir.resolve(EmbeddedPostgresServer.PASSWORD_FILE);
      String password = PasswordFile.readOrCreate(passwordFile);
      out.println("Copying " + pgData + " (PostgreSQL " + major + ") into a new PostgreSQL "
          + EmbeddedPostgresServer.BUNDLED_MAJOR + " cluster");
      try (EmbeddedPostgres source = oldCluster(pgData, binaries, password);
          EmbeddedPostgres target = EmbeddedPostgresServer.builder(next, passwordFile, password).start();
          Connection from = connect(source, password);
          Connection to = connect(target, password)) {
        copy(from, to, target, password);
      }
      Files.writeString(next.resolve(VERIFIED), backup.getFileName().toString());
      finish(pgData, next, backup);
    }
  }

  /** The old cluster, read only: the library's defaults plus what keeps it private and intact. */
  private static EmbeddedPostgres oldCluster(Path pgData, PostgresBinaries binaries, String password)
      throws IOException {
    return EmbeddedPostgres.builder()
        .setPgBinaryResolver(binaries)
        .setDataDirectory(pgData)
        .setCleanDataDirectory(false)
        .setPGStartupWait(java.time.Duration.ofSeconds(120))
        .setConnectConfig("password", password)
        .setServerConfig("listen_addresses", "127.0.0.1")
        .setServerConfig("unix_socket_directories", "")
        .setServerConfig("fsync", "on")
        .setServerConfig("default_transaction_read_only", "on")
        .start();
  }

  private static Connection connect(EmbeddedPostgres pg, String password) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/postgres",
        EmbeddedPostgresServer.USER, password);
  }

  private void copy(Connection from, Connection to, EmbeddedPostgres target, String password) throws SQLException {
    String version = schemaVersion(from);
    if (version != null) {
      var ds = target.getPostgresDatabase(java.util.Map.of("password", password));
      Flyway.configure().dataSource(ds).locations("classpath:db/migration").target(version).load().migrate();
    }
    List<String> tables = tables(from);
    try (Statement s = to.createStatement()) {
      // rows arrive table by table: foreign keys and triggers would see them out of order
      s.execute("set session_replication_role = replica");
      if (tables.contains("flyway_schema_history")) {
        s.execute("truncate flyway_schema_history");
      }
    }
    for (String table : tables) {
      long rows = copyTable(from, to, table);
      long copied = count(to, table);
      if (copied != rows || count(from, table) != rows) {
        throw new IllegalStateException(table + ": " + rows + " rows read, " + copied + " in the new cluster");
      }
      out.println("  " + table + ": " + rows + " rows");
    }
    copySequences(from, to);
    try (Statement s = to.createStatement()) {
      s.execute("analyze");
    }
  }

  private static String schemaVersion(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select version from flyway_schema_history where success and version is not null"
            + " order by installed_rank desc limit 1")) {
      return rs.next() ? rs.getString(1) : null;
    } catch (SQLException e) {
      return null; // no Sluice schema yet
    }
  }

  /** Plain tables of the public schema (Sluice has no partitioned ones). */
  private static List<String> tables(Connection c) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            + " where n.nspname = 'public' and c.relkind = 'r' order by c.relname")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    return tables;
  }

  /** Streams one table in PostgreSQL's binary COPY format, the stored columns named on both sides. */
  private static long copyTable(Connection from, Connection to, String table) throws SQLException {
    List<String> columns = new ArrayList<>();
    try (PreparedStatement ps = from.prepareStatement("select column_name from information_schema.columns"
        + " where table_schema = 'public' and table_name = ? and is_generated = 'NEVER' order by ordinal_position")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          columns.add('"' + rs.getString(1).replace("\"", "\"\"") + '"');
        }
      }
    }
    String target = "public.\"" + table.replace("\"", "\"\"") + "\" (" + String.join(", ", columns) + ")";
    CopyOut reader = from.unwrap(PGConnection.class).getCopyAPI()
        .copyOut("copy " + target + " to stdout (format binary)");
    CopyIn writer = to.unwrap(PGConnection.class).getCopyAPI().copyIn("copy " + target + " from stdin (format binary)");
    byte[] chunk;
    while ((chunk = reader.readFromCopy()) != null) {
      writer.writeToCopy(chunk, 0, chunk.length);
    }
    long written = writer.endCopy();
    if (written != reader.getHandledRowCount()) {
      throw new IllegalStateException(table + ": " + reader.getHandledRowCount() + " rows read, " + written + " written");
    }
    return written;
  }

  private static long count(Connection c, String table) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select count(*) from public.\"" + table.replace("\"", "\"\"") + '"')) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Identity columns continue where they were. */
  private static void copySequences(Connection from, Connection to) throws SQLException {
    try (Statement s = from.createStatement();
        ResultSet rs = s.executeQuery("select sequencename, last_value from pg_sequences"
            + " where schemaname = 'public' and last_value is not null");
        PreparedStatement set = to.prepareStatement("select setval(format('public.%I', ?::text), ?, true)")) {
      while (rs.next()) {
        set.setString(1, rs.getString(1));
        set.setLong(2, rs.getLong(2));
        set.execute();
      }
    }
  }

  /** Two renames; the marker in the new cluster lets a second run finish what a crash between them left. */
  private void finish(Path pgData, Path next, Path backup) throws IOException {
    if (Files.exists(pgData)) {
      Files.move(pgData, backup, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(next, pgData, StandardCopyOption.ATOMIC_MOVE);
    Files.delete(pgData.resolve(VERIFIED));
    out.println("Upgraded: " + pgData + " is PostgreSQL " + EmbeddedPostgresServer.BUNDLED_MAJOR
        + "; the old cluster is kept in " + backup + " (delete it once the server runs as it should)");
  }

  private static void deleteTree(Path dir) throws IOException {
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}

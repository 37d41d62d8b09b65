package dev.sluice.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool over PostgreSQL (embedded unless a JDBC URL is given), migrated by
 * Flyway before anything else touches it.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);
  /** How long a tool waits for the PostgreSQL of a server that holds the data directory while it starts. */
  private static final Duration TOOL_WAIT_FOR_SERVER = Duration.ofSeconds(60);
  private static final Duration TOOL_POLL = Duration.ofMillis(250);

  /**
   * @param jdbcUrl null for the embedded PostgreSQL under {@code dataDir}
   * @param httpPort the server's port, named to a second server that finds the data directory locked
   * @param exportPoolSize connections of the export's own pool ({@link #exportDataSource})
   * @param exportNiceness niceness of the export pool's backends with the embedded PostgreSQL; 0 leaves them be
   */
  public record Settings(Path dataDir, String jdbcUrl, String user, String password, int poolSize, int httpPort,
      int exportPoolSize, int exportNiceness) {
    /** For tools, which export nothing: an export pool of one connection, never opened. */
    public Settings(Path dataDir, String jdbcUrl, String user, String password, int poolSize, int httpPort) {
      this(dataDir, jdbcUrl, user, password, poolSize, httpPort, 1, 0);
    }
  }

  /** The pool export scans run on; also the application_name of its backends (pg_stat_activity). */
  static final String EXPORT_POOL = "sluice-export";

  /** How long /health/ready waits for a new connection and its query, at most. */
  private static final int READY_TIMEOUT_SECONDS = 5;

  private final EmbeddedPostgresServer embedded;
  private final HikariDataSource pool;
  private final HikariDataSource exportPool;

  private Database(EmbeddedPostgresServer embedded, HikariDataSource pool, HikariDataSource exportPool) {
    this.embedded = embedded;
    this.pool = pool;
    this.exportPool = exportPool;
  }

  public static Database open(Settings settings, MeterRegistry registry) {
    EmbeddedPostgresServer embedded = null;
    String url = settings.jdbcUrl();
    String user = settings.user();
    String password = settings.password();
    if (url == null || url.isBlank()) {
      embedded = EmbeddedPostgresServer.start(settings.dataDir(), settings.httpPort());
      url = embedded.jdbcUrl();
      user = EmbeddedPostgresServer.USER;
      password = embedded.password();
    }
    try {
      HikariConfig config = new HikariConfig();
      config.setPoolName("sluice-db");
      config.setJdbcUrl(url);
      config.setUsername(user);
      config.setPassword(password);
      config.setMaximumPoolSize(settings.poolSize());
      config.setConnectionTimeout(30_000);
      // server-side prepared statements from the first use: most statements here run often
      config.addDataSourceProperty("prepareThreshold", "1");
      config.addDataSourceProperty("reWriteBatchedInserts", "true");
      config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
      HikariDataSource pool = new HikariDataSource(config);
      migrate(pool);
      return new Database(embedded, pool, exportPool(settings, url, user, password, embedded != null, registry));
    } catch (RuntimeException e) {
      if (embedded != null) {
        embedded.close();
      }
      throw e;
    }
  }

  /**
   * For command-line tools that work on a server's database ({@code sluice clients}): the
   * embedded PostgreSQL of a server running on the data directory when there is one (reached,
   * never started twice), else as {@link #open}.
   */
  public static Database openForTool(Settings settings, MeterRegistry registry) {
    if (settings.jdbcUrl() != null && !settings.jdbcUrl().isBlank()) {
      return open(settings, registry);
    }
    // A server started a moment ago (`sluice serve &`, then this tool) holds the directory before its
    // PostgreSQL runs: wait for that PostgreSQL rather than refuse, as the docs' examples run them in a row.
    long deadline = System.nanoTime() + TOOL_WAIT_FOR_SERVER.toNanos();
    boolean told = false;
    while (true) {
      Optional<RunningPostgres.Address> running = RunningPostgres.of(settings.dataDir());
      if (running.isPresent()) {
        log.info("Using the PostgreSQL of the server running on {}", settings.dataDir());
        return open(new Settings(settings.dataDir(), running.get().jdbcUrl(), EmbeddedPostgresServer.USER,
            running.get().password(), settings.poolSize(), settings.httpPort()), registry);
      }
      try {
        return open(settings, registry);
      } catch (DataDirRefused e) {
        if (!e.heldByServer() || System.nanoTime() > deadline) {
          throw e;
        }
        if (!told) {
          log.info("Waiting for the PostgreSQL of the server starting on {} ({})", settings.dataDir(), e.getMessage());
          told = true;
        }
      }
      try {
        Thread.sleep(TOOL_POLL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the server on " + settings.dataDir(), e);
      }
    }
  }

  /**
   * The export's pool, apart from the API's: an export holds at most its size in connections
   * (and backends), so the API's pool is never drained by scans; with the embedded PostgreSQL
   * those backends also run at a lower CPU priority. Opened on first use: tools never use it.
   */
  private static HikariDataSource exportPool(Settings settings, String url, String user, String password,
      boolean embedded, MeterRegistry registry) {
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setURL(url);
    pg.setPrepareThreshold(1);
    pg.setApplicationName(EXPORT_POOL);
    DataSource source = pg;
    if (settings.exportNiceness() > 0 && embedded) {
      source = new LowPriorityBackends(pg, new Niceness(settings.exportNiceness()), Autogroups.ofThisMachine());
      log.info("Export scans: {} connections at most, their PostgreSQL backends at niceness {}",
          settings.exportPoolSize(), settings.exportNiceness());
    } else if (settings.exportNiceness() > 0) {
      log.info("Export scans: {} connections at most; their backends keep their priority (--export-niceness applies"
          + " to the embedded PostgreSQL only, whose backends run on this machine)", settings.exportPoolSize());
    }
    HikariConfig config = new HikariConfig();
    config.setPoolName(EXPORT_POOL);
    config.setDataSource(source);
    config.setUsername(user);
    config.setPassword(password);
    config.setMaximumPoolSize(settings.exportPoolSize());
    config.setMinimumIdle(0);
    // no connection at start: the API's pool has just reached the same database
    config.setInitializationFailTimeout(-1);
    config.setConnectionTimeout(30_000);
    config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
    return new HikariDataSource(config);
  }

  private static void migrate(DataSource dataSource) {
    Flyway flyway = Flyway.configure()
        .dataSource(dataSource)
        .locations("classpath:db/migration")
        .load();
    var result = flyway.migrate();
    // targetSchemaVersion is null when nothing was applied: the version comes from the history
    var current = flyway.info().current();
    log.info("Database schema at version {} ({} migrations applied now)",
        current == null ? "none" : current.getVersion(), result.migrationsExecuted);
  }

  public DataSource dataSource() {
    return pool;
  }

  /** The export's own pool: part scans and planning reads ({@link ExportScan}). */
  public DataSource exportDataSource() {
    return exportPool;
  }

  /**
   * For /health/ready: opens a new connection with the pool's settings, outside the pool, and
   * runs a trivial query. A connection the pool holds can keep working while the database
   * refuses new ones (stopped, restarting, out of connection slots); a new one cannot.
   *
   * @return empty when the database answered, else why not
   */
  public Optional<String> refusesNewConnections() {
    Properties props = new Properties();
    pool.getDataSourceProperties().forEach(props::put);
    if (pool.getUsername() != null) {
      props.setProperty("user", pool.getUsername());
    }
    if (pool.getPassword() != null) {
      props.setProperty("password", pool.getPassword());
    }
    props.setProperty("connectTimeout", Integer.toString(READY_TIMEOUT_SECONDS));
    props.setProperty("loginTimeout", Integer.toString(READY_TIMEOUT_SECONDS));
    props.setProperty("socketTimeout", Integer.toString(READY_TIMEOUT_SECONDS));
    props.setProperty("ApplicationName", "sluice-readiness");
    try (Connection c = new org.postgresql.Driver().connect(pool.getJdbcUrl(), props);
        Statement s = c.createStatement()) {
      s.setQueryTimeout(READY_TIMEOUT_SECONDS);
      s.execute("select 1");
      return Optional.empty();
    } catch (SQLException e) {
      return Optional.of(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
    }
  }

  /**
   * The owner closes this database in a shutdown hook of its own (after the work that uses it):
   * the embedded PostgreSQL then waits for that close at the JVM's exit instead of stopping at once.
   */
  public void closedByOwnerAtExit() {
    if (embedded != null) {
      embedded.closedByOwnerAtExit();
    }
  }

  @Override
  public void close() {
    exportPool.close();
    pool.close();
    if (embedded != null) {
      embedded.close();
    }
  }
}

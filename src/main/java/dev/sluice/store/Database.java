package dev.sluice.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection pool over PostgreSQL (embedded unless a JDBC URL is given), migrated by
 * Flyway before anything else touches it.
 */
public final class Database implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Database.class);

  /**
   * @param jdbcUrl null for the embedded PostgreSQL under {@code dataDir}
   * @param httpPort the server's port, named to a second server that finds the data directory locked
   */
  public record Settings(Path dataDir, String jdbcUrl, String user, String password, int poolSize, int httpPort) {}

  /** How long /health/ready waits for a new connection and its query, at most. */
  private static final int READY_TIMEOUT_SECONDS = 5;

  private final EmbeddedPostgresServer embedded;
  private final HikariDataSource pool;

  private Database(EmbeddedPostgresServer embedded, HikariDataSource pool) {
    this.embedded = embedded;
    this.pool = pool;
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
      return new Database(embedded, pool);
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
    if (settings.jdbcUrl() == null || settings.jdbcUrl().isBlank()) {
      Optional<RunningPostgres.Address> running = RunningPostgres.of(settings.dataDir());
      if (running.isPresent()) {
        log.info("Using the PostgreSQL of the server running on {}", settings.dataDir());
        return open(new Settings(settings.dataDir(), running.get().jdbcUrl(), EmbeddedPostgresServer.USER,
            running.get().password(), settings.poolSize(), settings.httpPort()), registry);
      }
    }
    return open(settings, registry);
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

  @Override
  public void close() {
    pool.close();
    if (embedded != null) {
      embedded.close();
    }
  }
}

package dev.sluice.cli;

import dev.sluice.store.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where a command-line tool finds the server's database: the data directory's, or an external one. */
final class DatabaseOptions {
  /** A tool needs few connections. */
  private static final int TOOL_POOL_SIZE = 2;

  @Option(names = "--data-dir", defaultValue = "${env:SLUICE_DATA_DIR:-./data}",
      description = "The server's data directory (env SLUICE_DATA_DIR; default ${DEFAULT-VALUE}); a server may be"
          + " running on it.")
  Path dataDir;

  @Option(names = "--db-url", defaultValue = "${env:SLUICE_DB_URL}",
      description = "JDBC URL of the server's external PostgreSQL instead of --data-dir (env SLUICE_DB_URL).")
  String dbUrl;

  @Option(names = "--db-user", defaultValue = "${env:SLUICE_DB_USER}",
      description = "Database user for --db-url (env SLUICE_DB_USER).")
  String dbUser;

  @Option(names = "--db-password", defaultValue = "${env:SLUICE_DB_PASSWORD}",
      description = "Database password for --db-url (env SLUICE_DB_PASSWORD).")
  String dbPassword;

  /** The database, reached through the running server's PostgreSQL when one runs on the data directory. */
  Database open() {
    if (dbUrl != null && !dbUrl.isBlank() && !dbUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("--db-url (SLUICE_DB_URL) must be a jdbc:postgresql: URL");
    }
    return Database.openForTool(new Database.Settings(dataDir, dbUrl, dbUser, dbPassword, TOOL_POOL_SIZE),
        new SimpleMeterRegistry());
  }
}

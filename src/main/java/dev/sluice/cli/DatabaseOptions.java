package dev.sluice.cli;

import dev.sluice.store.Database;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * Where the database is: the embedded PostgreSQL under the data directory, or an external one
 * ({@code sluice serve}, and the tools that work on a server's database).
 */
final class DatabaseOptions {
  /** A tool needs few connections. */
  private static final int TOOL_POOL_SIZE = 2;

  @Option(names = "--data-dir", defaultValue = "${env:SLUICE_DATA_DIR:-./data}",
      description = "Directory for the embedded database and local exports (env SLUICE_DATA_DIR; default"
          + " ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--db-url", defaultValue = "${env:SLUICE_DB_URL}",
      description = "JDBC URL of an external PostgreSQL 14+ instead of the embedded one (env SLUICE_DB_URL).")
  String dbUrl;

  @Option(names = "--db-user", defaultValue = "${env:SLUICE_DB_USER}",
      description = "Database user for --db-url (env SLUICE_DB_USER).")
  String dbUser;

  @Option(names = "--db-password", defaultValue = "${env:SLUICE_DB_PASSWORD}",
      description = "Database password for --db-url (env SLUICE_DB_PASSWORD).")
  String dbPassword;

  /** For a tool: the database, through the PostgreSQL of a server running on the data directory when one does. */
  Database openForTool() {
    if (dbUrl != null && !dbUrl.isBlank() && !dbUrl.startsWith("jdbc:postgresql:")) {
      throw new IllegalArgumentException("--db-url (SLUICE_DB_URL) must be a jdbc:postgresql: URL");
    }
    return Database.openForTool(new Database.Settings(dataDir, dbUrl, dbUser, dbPassword, TOOL_POOL_SIZE, 0),
        new SimpleMeterRegistry());
  }
}

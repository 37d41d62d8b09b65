package dev.sluice.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Everything the server is configured with, built once from flags, environment variables, the
 * configuration file and defaults (in that order of precedence) and validated before anything
 * starts.
 */
public record Config(
    String host,
    int port,
    Path dataDir,
    String dbUrl,
    String dbUser,
    String dbPassword,
    int dbPoolSize,
    String publicBaseUrl,
    long maxBodyBytes,
    ExportConfig export,
    LogConfig log,
    AuthConfig auth,
    EdgeConfig edge,
    Path importDir) {

  /** With the default import folder, {@code <data-dir>/imports}. */
  public Config(String host, int port, Path dataDir, String dbUrl, String dbUser, String dbPassword, int dbPoolSize,
      String publicBaseUrl, long maxBodyBytes, ExportConfig export, LogConfig log, AuthConfig auth, EdgeConfig edge) {
    this(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export, log, auth,
        edge, null);
  }

  /** The folder {@code $import} reads its inputs from: {@code --import-dir}, or {@code <data-dir>/imports}. */
  public Path importFolder() {
    return importDir != null ? importDir : dataDir.resolve("imports");
  }

  /**
   * With the default logging (text, no access log), without authorization ({@code --auth none}),
   * plain HTTP and the audit lines in the server log.
   */
  public Config(String host, int port, Path dataDir, String dbUrl, String dbUser, String dbPassword, int dbPoolSize,
      String publicBaseUrl, long maxBodyBytes, ExportConfig export) {
    this(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        LogConfig.defaults(), AuthConfig.none(), EdgeConfig.none());
  }

  /** Plain HTTP, no identity provider, audit lines in the server log, the default logging. */
  public Config(String host, int port, Path dataDir, String dbUrl, String dbUser, String dbPassword, int dbPoolSize,
      String publicBaseUrl, long maxBodyBytes, ExportConfig export, AuthConfig auth) {
    this(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        LogConfig.defaults(), auth, EdgeConfig.none());
  }

  /** The same configuration with other authorization settings. */
  public Config with(AuthConfig other) {
    return new Config(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        log, other, edge, importDir);
  }

  /** The same configuration with other identity provider, TLS or audit settings. */
  public Config with(EdgeConfig other) {
    return new Config(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        log, auth, other, importDir);
  }

  /** @throws IllegalArgumentException naming every setting that is wrong */
  public Config validate() {
    List<String> problems = new ArrayList<>();
    if (port < 0 || port > 65535) {
      problems.add("--port (SLUICE_PORT) must be between 0 and 65535, got " + port);
    }
    if (dbPoolSize < 2) {
      problems.add("--db-pool-size (SLUICE_DB_POOL_SIZE) must be at least 2, got " + dbPoolSize);
    }
    if (maxBodyBytes < 1024) {
      problems.add("--max-body-size (SLUICE_MAX_BODY_SIZE) must be at least 1024 bytes, got " + maxBodyBytes);
    }
    if (dbUrl != null && !dbUrl.isBlank() && !dbUrl.startsWith("jdbc:postgresql:")) {
      problems.add("--db-url (SLUICE_DB_URL) must be a jdbc:postgresql: URL");
    }
    export.validate(problems);
    log.validate(problems);
    auth.validate(problems, host);
    edge.validate(problems, auth.mode(), port);
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException(String.join("; ", problems));
    }
    return this;
  }

  /** For the start-up log: the password never appears. */
  @Override
  public String toString() {
    return "Config[host=" + host + ", port=" + port + ", dataDir=" + dataDir
        + ", db=" + (dbUrl == null || dbUrl.isBlank() ? "embedded" : dbUrl) + ", dbUser=" + dbUser
        + ", dbPassword=" + (dbPassword == null ? "unset" : "****") + ", dbPoolSize=" + dbPoolSize
        + ", publicBaseUrl=" + publicBaseUrl + ", maxBodyBytes=" + maxBodyBytes + ", export[" + export + "], " + log
        + ", auth[" + auth + "], edge[" + edge + "], importDir=" + importFolder() + "]";
  }
}

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
    AuthConfig auth,
    EdgeConfig edge,
    LogConfig log) {

  /** Without authorization ({@code --auth none}): a server on a loopback address, as tests and tools start one. */
  public Config(String host, int port, Path dataDir, String dbUrl, String dbUser, String dbPassword, int dbPoolSize,
      String publicBaseUrl, long maxBodyBytes, ExportConfig export) {
    this(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        AuthConfig.none(), EdgeConfig.none(), LogConfig.defaults());
  }

  /** Plain HTTP, no identity provider, audit lines in the server log, the default logging. */
  public Config(String host, int port, Path dataDir, String dbUrl, String dbUser, String dbPassword, int dbPoolSize,
      String publicBaseUrl, long maxBodyBytes, ExportConfig export, AuthConfig auth) {
    this(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export, auth,
        EdgeConfig.none(), LogConfig.defaults());
  }

  /** The same configuration with other authorization settings. */
  public Config with(AuthConfig other) {
    return new Config(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        other, edge, log);
  }

  /** The same configuration with other identity provider, TLS or audit settings. */
  public Config with(EdgeConfig other) {
    return new Config(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes, export,
        auth, other, log);
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
    auth.validate(problems, host);
    edge.validate(problems, auth.mode());
    log.validate(problems);
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
        + ", publicBaseUrl=" + publicBaseUrl + ", maxBodyBytes=" + maxBodyBytes + ", export[" + export + "], auth["
        + auth + "], edge[" + edge + "], " + log + "]";
  }
}

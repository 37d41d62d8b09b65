package dev.sluice.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice serve}: runs the FHIR server until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Start the FHIR R4 server (embedded PostgreSQL unless --db-url is given).")
final class ServeCommand implements Callable<Integer> {

  @Option(names = "--host", defaultValue = "${env:SLUICE_HOST:-127.0.0.1}",
      description = "Interface to listen on (env SLUICE_HOST; default ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "${env:SLUICE_PORT:-8080}",
      description = "HTTP port, 0 for any free port (env SLUICE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--data-dir", defaultValue = "${env:SLUICE_DATA_DIR:-./data}",
      description = "Directory for the embedded database and local exports (env SLUICE_DATA_DIR; default ${DEFAULT-VALUE}).")
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

  @Option(names = "--db-pool-size", defaultValue = "${env:SLUICE_DB_POOL_SIZE:-16}",
      description = "Database connections (env SLUICE_DB_POOL_SIZE; default ${DEFAULT-VALUE}).")
  int dbPoolSize;

  @Option(names = "--base-url", defaultValue = "${env:SLUICE_BASE_URL}",
      description = "Public FHIR base URL for links, e.g. https://fhir.example.org/fhir (env SLUICE_BASE_URL; default: from each request).")
  String publicBaseUrl;

  @Option(names = "--max-body-size", defaultValue = "${env:SLUICE_MAX_BODY_SIZE:-67108864}",
      description = "Largest request body in bytes; larger ones get 413 (env SLUICE_MAX_BODY_SIZE; default ${DEFAULT-VALUE}).")
  long maxBodyBytes;

  Config config() {
    return new Config(host, port, dataDir, dbUrl, dbUser, dbPassword, dbPoolSize, publicBaseUrl, maxBodyBytes)
        .validate();
  }

  @Override
  public Integer call() throws Exception {
    Config config;
    try {
      config = config();
    } catch (IllegalArgumentException e) {
      System.err.println("sluice serve: " + e.getMessage());
      return 2;
    }
    Application app = Application.start(config);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close();
      stopped.countDown();
    }, "sluice-shutdown"));
    stopped.await();
    return 0;
  }
}

package dev.sluice.cli;

import dev.sluice.auth.AuthMode;
import dev.sluice.export.GzipCopyTime;
import dev.sluice.store.DataDirRefused;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin
  DatabaseOptions database;

  @Option(names = "--db-pool-size", defaultValue = "${env:SLUICE_DB_POOL_SIZE:-16}",
      description = "Database connections (env SLUICE_DB_POOL_SIZE; default ${DEFAULT-VALUE}).")
  int dbPoolSize;

  @Option(names = "--base-url", defaultValue = "${env:SLUICE_BASE_URL}",
      description = "Public FHIR base URL for links, e.g. https://fhir.example.org/fhir (env SLUICE_BASE_URL; default: from each request).")
  String publicBaseUrl;

  @Option(names = "--import-dir", defaultValue = "${env:SLUICE_IMPORT_DIR}",
      description = "The folder $import reads its inputs from (env SLUICE_IMPORT_DIR; default <data-dir>/imports).")
  Path importDir;

  @Option(names = "--max-body-size", defaultValue = "${env:SLUICE_MAX_BODY_SIZE:-67108864}",
      description = "Largest request body in bytes; larger ones get 413 (env SLUICE_MAX_BODY_SIZE; default ${DEFAULT-VALUE}).")
  long maxBodyBytes;

  @Option(names = "--export-storage", defaultValue = "${env:SLUICE_EXPORT_STORAGE:-local}",
      description = "Where export files go: local (under <data-dir>/exports), azure or s3 (env SLUICE_EXPORT_STORAGE; default ${DEFAULT-VALUE}).")
  String exportStorage;

  @Option(names = "--azure-connection-string", defaultValue = "${env:SLUICE_AZURE_CONNECTION_STRING}",
      description = "Azure Storage connection string for --export-storage azure (env SLUICE_AZURE_CONNECTION_STRING).")
  String azureConnectionString;

  @Option(names = "--azure-account-url", defaultValue = "${env:SLUICE_AZURE_ACCOUNT_URL}", paramLabel = "URL",
      description = "Blob endpoint (https://ACCOUNT.blob.core.windows.net) for --export-storage azure with Microsoft"
          + " Entra ID instead of a connection string: managed identity, workload identity, AZURE_* variables or"
          + " the Azure CLI (env SLUICE_AZURE_ACCOUNT_URL).")
  String azureAccountUrl;

  @Option(names = "--s3-bucket", defaultValue = "${env:SLUICE_S3_BUCKET}",
      description = "S3 bucket for --export-storage s3; it must exist (env SLUICE_S3_BUCKET).")
  String s3Bucket;

  @Option(names = "--s3-prefix", defaultValue = "${env:SLUICE_S3_PREFIX:-}",
      description = "Key prefix of export files in the bucket: <prefix>/<container>/<job id>/<file> (env SLUICE_S3_PREFIX; default none).")
  String s3Prefix;

  @Option(names = "--s3-region", defaultValue = "${env:SLUICE_S3_REGION}",
      description = "AWS region of the bucket (env SLUICE_S3_REGION; default: the AWS SDK's chain, e.g. AWS_REGION).")
  String s3Region;

  @Option(names = "--s3-endpoint", defaultValue = "${env:SLUICE_S3_ENDPOINT}",
      description = "URL of an S3-compatible server, addressed path-style (env SLUICE_S3_ENDPOINT; default: AWS).")
  String s3Endpoint;

  @Option(names = "--s3-kms-key-id", defaultValue = "${env:SLUICE_S3_KMS_KEY_ID}",
      description = "Encrypt export files with this KMS key (SSE-KMS) instead of SSE-S3 (env SLUICE_S3_KMS_KEY_ID).")
  String s3KmsKeyId;

  @Option(names = "--s3-part-size", defaultValue = "${env:SLUICE_S3_PART_SIZE:-8388608}",
      description = "Bytes of each multipart upload part, the memory each file being written holds; 5 MiB to 512 MiB"
          + " (env SLUICE_S3_PART_SIZE; default ${DEFAULT-VALUE}).")
  long s3PartBytes;

  @Option(names = "--export-workers", defaultValue = "${env:SLUICE_EXPORT_WORKERS:-2}",
      description = "Export parts this process writes at once (env SLUICE_EXPORT_WORKERS; default ${DEFAULT-VALUE}).")
  int exportWorkers;

  @Option(names = "--export-max-running-jobs", defaultValue = "${env:SLUICE_EXPORT_MAX_RUNNING_JOBS:-4}",
      description = "Exports running at once across all processes; more queue (env SLUICE_EXPORT_MAX_RUNNING_JOBS; default ${DEFAULT-VALUE}).")
  int exportMaxRunningJobs;

  @Option(names = "--export-max-file-size", defaultValue = "${env:SLUICE_EXPORT_MAX_FILE_SIZE:-67108864}",
      description = "An export file is closed past this many bytes (env SLUICE_EXPORT_MAX_FILE_SIZE; default ${DEFAULT-VALUE}).")
  long exportMaxFileBytes;

  @Option(names = "--export-max-file-resources", defaultValue = "${env:SLUICE_EXPORT_MAX_FILE_RESOURCES:-1000000}",
      description = "... or past this many resources (env SLUICE_EXPORT_MAX_FILE_RESOURCES; default ${DEFAULT-VALUE}).")
  long exportMaxFileResources;

  @Option(names = "--export-part-size", defaultValue = "${env:SLUICE_EXPORT_PART_SIZE:-100000}",
      description = "About how many resources one unit of export work covers (env SLUICE_EXPORT_PART_SIZE; default ${DEFAULT-VALUE}).")
  long exportPartResources;

  @Option(names = "--export-lease", defaultValue = "${env:SLUICE_EXPORT_LEASE:-30}",
      description = "Seconds a claimed export part stays claimed without renewal (env SLUICE_EXPORT_LEASE; default ${DEFAULT-VALUE}).")
  int exportLeaseSeconds;

  @Option(names = "--export-retention", defaultValue = "${env:SLUICE_EXPORT_RETENTION:-86400}",
      description = "Seconds export files are kept after the job ends (env SLUICE_EXPORT_RETENTION; default ${DEFAULT-VALUE}).")
  long exportRetentionSeconds;

  @Option(names = "--export-require-async-headers", defaultValue = "${env:SLUICE_EXPORT_REQUIRE_ASYNC_HEADERS:-true}",
      arity = "1", description = "Kick-off requires Accept: application/fhir+json and Prefer: respond-async"
          + " (env SLUICE_EXPORT_REQUIRE_ASYNC_HEADERS; default ${DEFAULT-VALUE}).")
  boolean exportRequireAsyncHeaders;

  @Option(names = "--export-store-retries", defaultValue = "${env:SLUICE_EXPORT_STORE_RETRIES:-10}",
      description = "Attempts of a planning or a part that finds the output store unreachable, 1 s apart at first,"
          + " doubling up to 30 s; then the job fails (env SLUICE_EXPORT_STORE_RETRIES; default ${DEFAULT-VALUE},"
          + " about two and a half minutes).")
  int exportStoreRetries;

  @Option(names = "--export-niceness", defaultValue = "${env:SLUICE_EXPORT_NICENESS:-10}",
      description = "Niceness (0-19) of the embedded PostgreSQL's backends that export scans run on, so that the API's"
          + " queries come first; not applied to a --db-url database (env SLUICE_EXPORT_NICENESS; default ${DEFAULT-VALUE}).")
  int exportNiceness;

  @Option(names = "--export-gzip-copy", defaultValue = "${env:SLUICE_EXPORT_GZIP_COPY:-download}",
      description = "When a local export file's gzip copy is made: download (on the first download that accepts gzip)"
          + " or write (while the export writes the file: every export pays the compression, no download waits for it)"
          + " (env SLUICE_EXPORT_GZIP_COPY; default ${DEFAULT-VALUE}).")
  GzipCopyTime exportGzipCopy;

  @Option(names = "--auth", defaultValue = "${env:SLUICE_AUTH:-none}",
      description = "Who may call the FHIR API: none (loopback only), smart (SMART Backend Services, clients from"
          + " 'sluice clients add') or oidc (tokens of an identity provider) (env SLUICE_AUTH; default ${DEFAULT-VALUE}).")
  AuthMode auth;

  @Option(names = "--allow-unauthenticated", defaultValue = "${env:SLUICE_ALLOW_UNAUTHENTICATED:-false}",
      description = "Allow --auth none on an address other than loopback; anyone who reaches it can read and change"
          + " everything (env SLUICE_ALLOW_UNAUTHENTICATED; default ${DEFAULT-VALUE}).")
  boolean allowUnauthenticated;

  @Option(names = "--auth-token-lifetime", defaultValue = "${env:SLUICE_AUTH_TOKEN_LIFETIME:-300}",
      description = "--auth smart: seconds an access token lives (env SLUICE_AUTH_TOKEN_LIFETIME; default ${DEFAULT-VALUE}).")
  int tokenLifetimeSeconds;

  @Option(names = "--oidc-issuer", defaultValue = "${env:SLUICE_OIDC_ISSUER}",
      description = "--auth oidc: the identity provider's issuer URL, exactly as its tokens' iss (env SLUICE_OIDC_ISSUER).")
  String oidcIssuer;

  @Option(names = "--oidc-audience", defaultValue = "${env:SLUICE_OIDC_AUDIENCE}",
      description = "--auth oidc: the aud its tokens must carry for Sluice (env SLUICE_OIDC_AUDIENCE).")
  String oidcAudience;

  @Option(names = "--oidc-roles", defaultValue = "${env:SLUICE_OIDC_ROLES}",
      description = "--auth oidc: JSON file mapping application roles (roles claim) to SMART scopes (env SLUICE_OIDC_ROLES).")
  Path oidcRoles;

  @Option(names = "--tls-cert", defaultValue = "${env:SLUICE_TLS_CERT}",
      description = "Serve HTTPS with this PEM certificate chain, leaf first (env SLUICE_TLS_CERT; with --tls-key).")
  Path tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:SLUICE_TLS_KEY}",
      description = "The PEM (PKCS#8) private key of --tls-cert (env SLUICE_TLS_KEY).")
  Path tlsKey;

  @Option(names = "--audit-log", defaultValue = "${env:SLUICE_AUDIT_LOG}",
      description = "Write the audit log (one JSON line per request) to this file instead of the server log (env SLUICE_AUDIT_LOG).")
  Path auditLog;

  @Option(names = "--management-port", defaultValue = "${env:SLUICE_MANAGEMENT_PORT}",
      description = "Serve /health, /health/ready and /metrics on this port (plain HTTP, the same host) instead of"
          + " the FHIR port, which then answers 404 for them (env SLUICE_MANAGEMENT_PORT).")
  Integer managementPort;

  @Option(names = "--log-format", defaultValue = "${env:SLUICE_LOG_FORMAT:-text}",
      description = "Console log format: text or json, one JSON object per line (env SLUICE_LOG_FORMAT; default ${DEFAULT-VALUE}).")
  LogConfig.Format logFormat;

  @Option(names = "--access-log", defaultValue = "${env:SLUICE_ACCESS_LOG:-false}", arity = "1",
      description = "Log one line per request: method, path, status, duration, bytes (env SLUICE_ACCESS_LOG; default ${DEFAULT-VALUE}).")
  boolean accessLog;

  /** Read before the other options are parsed (Main); declared here for --help and parsing. */
  @Option(names = "--config", paramLabel = "FILE", defaultValue = "${env:SLUICE_CONFIG}",
      description = "A properties file of settings named as the options without '--' (port=8080);"
          + " flags and environment variables win over it (env SLUICE_CONFIG).")
  Path configFile;

  Config config() {
    return new Config(host, port, database.dataDir, database.dbUrl, database.dbUser, database.dbPassword, dbPoolSize,
        publicBaseUrl, maxBodyBytes,
        new ExportConfig(exportStorage, azureConnectionString, exportWorkers, exportMaxRunningJobs, exportMaxFileBytes,
            exportMaxFileResources, exportPartResources, exportLeaseSeconds, exportRetentionSeconds,
            exportRequireAsyncHeaders, exportStoreRetries,
            new S3Config(s3Bucket, s3Prefix, blankAsNull(s3Region), blankAsNull(s3Endpoint), blankAsNull(s3KmsKeyId),
                s3PartBytes), blankAsNull(azureAccountUrl), exportNiceness, exportGzipCopy),
        new LogConfig(logFormat, accessLog),
        new AuthConfig(auth, allowUnauthenticated, tokenLifetimeSeconds),
        new EdgeConfig(EdgeConfig.Oidc.of(oidcIssuer, oidcAudience, Optional.ofNullable(oidcRoles)),
            EdgeConfig.tls(tlsCert, tlsKey), Optional.ofNullable(auditLog),
            managementPort == null ? OptionalInt.empty() : OptionalInt.of(managementPort)), importDir)
        .validate();
  }

  private static String blankAsNull(String s) {
    return s == null || s.isBlank() ? null : s;
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
    LogOutput.use(config.log().format());
    Application app;
    try {
      app = Application.start(config);
    } catch (PortInUse | DataDirRefused e) {
      System.err.println("sluice serve: " + e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    app.closeOnExit(stopped::countDown);
    stopped.await();
    return 0;
  }
}

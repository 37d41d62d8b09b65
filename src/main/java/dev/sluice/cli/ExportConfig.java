package dev.sluice.cli;

import dev.sluice.export.AzureBlobOutputStore;
import dev.sluice.export.ExportSettings;
import dev.sluice.export.GzipCopyTime;
import dev.sluice.export.StoreRetry;
import dev.sluice.store.ExportScan;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The export settings of {@link Config} (flags {@code --export-*}, {@code --azure-*} and {@code --s3-*}; see
 * docs/config.md).
 */
public record ExportConfig(
    String storage,
    String azureConnectionString,
    int workers,
    int maxRunningJobs,
    long maxFileBytes,
    long maxFileResources,
    long partResources,
    int leaseSeconds,
    long retentionSeconds,
    boolean requireAsyncHeaders,
    int storeRetries,
    S3Config s3,
    String azureAccountUrl,
    int niceness,
    GzipCopyTime gzipCopy) {

  /** The niceness of the embedded PostgreSQL's export backends unless set: below the API's, never idle-only. */
  public static final int DEFAULT_NICENESS = 10;

  /** Gzip copies made on the first download that asks for one. */
  public ExportConfig(String storage, String azureConnectionString, int workers, int maxRunningJobs, long maxFileBytes,
      long maxFileResources, long partResources, int leaseSeconds, long retentionSeconds, boolean requireAsyncHeaders,
      int storeRetries, S3Config s3, String azureAccountUrl, int niceness) {
    this(storage, azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources, partResources,
        leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, azureAccountUrl, niceness,
        GzipCopyTime.DOWNLOAD);
  }

  /** At the default niceness. */
  public ExportConfig(String storage, String azureConnectionString, int workers, int maxRunningJobs, long maxFileBytes,
      long maxFileResources, long partResources, int leaseSeconds, long retentionSeconds, boolean requireAsyncHeaders,
      int storeRetries, S3Config s3, String azureAccountUrl) {
    this(storage, azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources, partResources,
        leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, azureAccountUrl, DEFAULT_NICENESS);
  }

  /** Without an Azure account URL. */
  public ExportConfig(String storage, String azureConnectionString, int workers, int maxRunningJobs, long maxFileBytes,
      long maxFileResources, long partResources, int leaseSeconds, long retentionSeconds, boolean requireAsyncHeaders,
      int storeRetries, S3Config s3) {
    this(storage, azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources, partResources,
        leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, null);
  }

  /** Without S3 settings (the local or the Azure store). */
  public ExportConfig(String storage, String azureConnectionString, int workers, int maxRunningJobs, long maxFileBytes,
      long maxFileResources, long partResources, int leaseSeconds, long retentionSeconds, boolean requireAsyncHeaders,
      int storeRetries) {
    this(storage, azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources, partResources,
        leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, S3Config.none());
  }

  /** These settings with the S3 store. */
  public ExportConfig withS3(S3Config s3) {
    return new ExportConfig("s3", azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources,
        partResources, leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, azureAccountUrl, niceness,
        gzipCopy);
  }

  /** These settings with the Azure store reached at an account URL with Microsoft Entra ID. */
  public ExportConfig withAzureAccountUrl(String accountUrl) {
    return new ExportConfig("azure", null, workers, maxRunningJobs, maxFileBytes, maxFileResources, partResources,
        leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, accountUrl, niceness, gzipCopy);
  }

  /** These settings with the export backends of the embedded PostgreSQL at another niceness. */
  public ExportConfig withNiceness(int other) {
    return new ExportConfig(storage, azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources,
        partResources, leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, azureAccountUrl, other,
        gzipCopy);
  }

  /** These settings with the local store's gzip copies made at another time. */
  public ExportConfig withGzipCopy(GzipCopyTime other) {
    return new ExportConfig(storage, azureConnectionString, workers, maxRunningJobs, maxFileBytes, maxFileResources,
        partResources, leaseSeconds, retentionSeconds, requireAsyncHeaders, storeRetries, s3, azureAccountUrl, niceness,
        other);
  }

  /**
   * The export's connection pool: one connection per worker (a part holds one for its scans)
   * and one for the coordinator's planning reads; the API's pool never serves them.
   */
  int poolSize() {
    return workers + 1;
  }

  /** Buffer of each open output file. */
  static final int WRITE_BUFFER_BYTES = 256 * 1024;
  /** Block size of Azure uploads; each file being written holds up to (concurrency + 1) blocks. */
  static final long AZURE_BLOCK_BYTES = 8L * 1024 * 1024;
  static final int AZURE_UPLOAD_CONCURRENCY = 2;
  /** A part failing this many times fails its job. */
  static final int MAX_ATTEMPTS = 3;
  /** Rows of deletions fetched at a time. */
  static final int DELETION_FETCH_SIZE = 500;
  /**
   * Versions replaced after transactionTime judged at a time (parsed, indexed, searched in one
   * statement): at most 500, or fewer once they hold 16 MB.
   */
  static final ExportScan.ReplacedBatch REPLACED_BATCH = new ExportScan.ReplacedBatch(500, 16L * 1024 * 1024);
  static final Duration POLL = Duration.ofMillis(250);
  /** The first wait after the output store was unreachable, and the longest; doubled in between. */
  static final Duration STORE_RETRY_FIRST = Duration.ofSeconds(1);
  static final Duration STORE_RETRY_MAX = Duration.ofSeconds(30);

  public static ExportConfig defaults() {
    return new ExportConfig("local", null, 2, 4, 64L * 1024 * 1024, 1_000_000, 100_000, 30, 86_400, true, 10);
  }

  void validate(List<String> problems) {
    if (!storage.equals("local") && !storage.equals("azure") && !storage.equals("s3")) {
      problems.add("--export-storage (SLUICE_EXPORT_STORAGE) must be local, azure or s3, got " + storage);
    }
    if (storage.equals("s3")) {
      s3.validate(retentionSeconds, problems);
    }
    if (storage.equals("azure")) {
      validateAzure(problems);
    }
    if (workers < 1 || workers > 64) {
      problems.add("--export-workers (SLUICE_EXPORT_WORKERS) must be between 1 and 64, got " + workers);
    }
    if (maxRunningJobs < 1) {
      problems.add("--export-max-running-jobs (SLUICE_EXPORT_MAX_RUNNING_JOBS) must be at least 1, got " + maxRunningJobs);
    }
    if (maxFileBytes < 1024) {
      problems.add("--export-max-file-size (SLUICE_EXPORT_MAX_FILE_SIZE) must be at least 1024 bytes, got " + maxFileBytes);
    }
    if (maxFileResources < 1) {
      problems.add("--export-max-file-resources (SLUICE_EXPORT_MAX_FILE_RESOURCES) must be at least 1, got " + maxFileResources);
    }
    if (partResources < 1) {
      problems.add("--export-part-size (SLUICE_EXPORT_PART_SIZE) must be at least 1, got " + partResources);
    }
    if (leaseSeconds < 2) {
      problems.add("--export-lease (SLUICE_EXPORT_LEASE) must be at least 2 seconds, got " + leaseSeconds);
    }
    if (storeRetries < 1) {
      problems.add("--export-store-retries (SLUICE_EXPORT_STORE_RETRIES) must be at least 1, got " + storeRetries);
    }
    if (retentionSeconds < 1) {
      problems.add("--export-retention (SLUICE_EXPORT_RETENTION) must be at least 1 second, got " + retentionSeconds);
    }
    if (niceness < 0 || niceness > 19) {
      problems.add("--export-niceness (SLUICE_EXPORT_NICENESS) must be between 0 and 19, got " + niceness);
    }
  }

  private void validateAzure(List<String> problems) {
    boolean connection = azureConnectionString != null && !azureConnectionString.isBlank();
    boolean url = azureAccountUrl != null && !azureAccountUrl.isBlank();
    if (connection == url) {
      problems.add("--export-storage azure needs either --azure-connection-string (SLUICE_AZURE_CONNECTION_STRING)"
          + " or --azure-account-url (SLUICE_AZURE_ACCOUNT_URL), " + (connection ? "not both" : "got neither"));
    } else if (connection && !AzureBlobOutputStore.hasAccountKey(azureConnectionString)) {
      problems.add("--azure-connection-string (SLUICE_AZURE_CONNECTION_STRING) holds no AccountKey, so the manifest's"
          + " URLs could not be signed; give one with the key, or --azure-account-url to use Microsoft Entra ID");
    } else if (url && !azureAccountUrl.startsWith("https://")) {
      problems.add("--azure-account-url (SLUICE_AZURE_ACCOUNT_URL) must be an https:// URL (Entra ID tokens are sent"
          + " over TLS only), got " + azureAccountUrl);
    } else if (url && retentionSeconds > AzureBlobOutputStore.LONGEST_USER_DELEGATION.toSeconds()) {
      problems.add("--export-retention (SLUICE_EXPORT_RETENTION) must be at most "
          + AzureBlobOutputStore.LONGEST_USER_DELEGATION.toSeconds() + " seconds (7 days) with --azure-account-url:"
          + " user-delegation SAS URLs live 7 days at most, got " + retentionSeconds);
    }
  }

  ExportSettings settings() {
    Duration lease = Duration.ofSeconds(leaseSeconds);
    // renewals also notice cancellation, so they come every second at most
    Duration renew = lease.dividedBy(5).compareTo(Duration.ofSeconds(1)) < 0 ? lease.dividedBy(5) : Duration.ofSeconds(1);
    return new ExportSettings(maxFileBytes, maxFileResources, partResources, workers, maxRunningJobs, lease, renew,
        Duration.ofSeconds(retentionSeconds), POLL, WRITE_BUFFER_BYTES, MAX_ATTEMPTS,
        new StoreRetry(storeRetries, STORE_RETRY_FIRST, STORE_RETRY_MAX), requireAsyncHeaders);
  }

  @Override
  public String toString() {
    return "storage=" + storage + (azureConnectionString == null ? "" : ", azureConnectionString=****")
        + (azureAccountUrl == null ? "" : ", azureAccountUrl=" + azureAccountUrl)
        + ", workers=" + workers + ", maxRunningJobs=" + maxRunningJobs + ", maxFileBytes=" + maxFileBytes
        + ", maxFileResources=" + maxFileResources + ", partResources=" + partResources + ", leaseSeconds=" + leaseSeconds
        + ", retentionSeconds=" + retentionSeconds + ", requireAsyncHeaders=" + requireAsyncHeaders
        + ", storeRetries=" + storeRetries + ", niceness=" + niceness
        + ", gzipCopy=" + gzipCopy.name().toLowerCase(Locale.ROOT) + (storage.equals("s3") ? ", s3=[" + s3 + "]" : "");
  }
}

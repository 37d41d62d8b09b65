package dev.sluice.export;

import com.azure.core.credential.TokenCredential;
import com.azure.core.util.Context;
import com.azure.storage.blob.BlobClient;
import com.azure.storage.blob.BlobContainerClient;
import com.azure.storage.blob.BlobServiceClient;
import com.azure.storage.blob.BlobServiceClientBuilder;
import com.azure.storage.blob.models.BlobDownloadContentResponse;
import com.azure.storage.blob.models.BlobHttpHeaders;
import com.azure.storage.blob.models.BlobProperties;
import com.azure.storage.blob.models.BlobRequestConditions;
import com.azure.storage.blob.models.BlobStorageException;
import com.azure.storage.blob.models.DownloadRetryOptions;
import com.azure.storage.blob.models.ListBlobsOptions;
import com.azure.storage.blob.models.ParallelTransferOptions;
import com.azure.storage.blob.models.UserDelegationKey;
import com.azure.storage.blob.sas.BlobSasPermission;
import com.azure.storage.blob.sas.BlobServiceSasSignatureValues;
import com.azure.storage.common.policy.RequestRetryOptions;
import com.azure.storage.common.policy.RetryPolicyType;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * Files as block blobs {@code <job id>/<name>} in the container, which planning creates. The
 * manifest gives read-only SAS URLs valid until the export expires, so downloads need no FHIR
 * token: service SAS signed with the account key of a connection string, or, with Microsoft
 * Entra ID (an account URL and a token credential, no key), user-delegation SAS signed with a
 * user delegation key that the store asks for with its token.
 *
 * <p>The SDK retries each call a few times, briefly ({@link #RETRIES}); a store that stays
 * away longer surfaces as {@link StoreUnreachable}, which planning and parts wait out with
 * their own, longer backoff ({@link StoreRetry}). Anything else the store answers (a 4xx
 * other than 408 and 429) is an ordinary error.
 */
public final class AzureBlobOutputStore implements OutputStore {
  /** Tries per call, 0.5 s then 1 s apart; a try may take up to two minutes (an 8 MB block on a slow link). */
  private static final RequestRetryOptions RETRIES = new RequestRetryOptions(RetryPolicyType.EXPONENTIAL, 3,
      Duration.ofMinutes(2), Duration.ofMillis(500), Duration.ofSeconds(2), null);

  /** The longest a user delegation key may live, and so the longest its SAS may (Azure's limit). */
  public static final Duration LONGEST_USER_DELEGATION = Duration.ofDays(7);

  private final BlobServiceClient service;
  private final ParallelTransferOptions transfer;
  private final Signer signer;

  private AzureBlobOutputStore(BlobServiceClient service, long blockBytes, int concurrency, Signer signer) {
    this.service = service;
    this.transfer = new ParallelTransferOptions().setBlockSizeLong(blockBytes).setMaxConcurrency(concurrency);
    this.signer = signer;
  }

  /**
   * A store reached with a connection string that holds the account key (checked by
   * {@link #hasAccountKey}).
   *
   * @param blockBytes size of each uploaded block; a file being written holds at most
   *     {@code blockBytes * (concurrency + 1)} in memory
   */
  public static AzureBlobOutputStore withConnectionString(String connectionString, long blockBytes, int concurrency) {
    if (!hasAccountKey(connectionString)) {
      throw new IllegalArgumentException("the connection string holds no AccountKey: the manifest's URLs could not be signed");
    }
    BlobServiceClient service = new BlobServiceClientBuilder().connectionString(connectionString).retryOptions(RETRIES)
        .buildClient();
    return new AzureBlobOutputStore(service, blockBytes, concurrency, new Signer.AccountKey());
  }

  /**
   * A store reached at {@code accountUrl} (https://ACCOUNT.blob.core.windows.net) with a
   * Microsoft Entra ID token; its identity needs a role that may write blobs and ask for user
   * delegation keys (Storage Blob Data Contributor has both).
   */
  public static AzureBlobOutputStore withEntraId(String accountUrl, TokenCredential credential, Clock clock,
      long blockBytes, int concurrency) {
    BlobServiceClient service = new BlobServiceClientBuilder().endpoint(accountUrl).credential(credential)
        .retryOptions(RETRIES).buildClient();
    return new AzureBlobOutputStore(service, blockBytes, concurrency, new Signer.UserDelegation(service, clock));
  }

  /**
   * Whether a connection string carries an account key (or names the emulator, whose key is
   * known); one with a SAS or nothing cannot sign the manifest's URLs.
   */
  public static boolean hasAccountKey(String connectionString) {
    for (String setting : connectionString.split(";")) {
      int eq = setting.indexOf('=');
      if (eq > 0) {
        String name = setting.substring(0, eq).trim().toLowerCase(Locale.ROOT);
        String value = setting.substring(eq + 1).trim();
        if (name.equals("accountkey") && !value.isEmpty()
            || name.equals("usedevelopmentstorage") && value.equalsIgnoreCase("true")) {
          return true;
        }
      }
    }
    return false;
  }

  @Override
  public void prepare(String container) throws StoreUnreachable {
    call("create the container " + container, () -> service.getBlobContainerClient(container).createIfNotExists());
  }

  @Override
  public OutputStream create(String container, UUID jobId, String name) throws IOException {
    OutputStream blob = call("open " + container + "/" + jobId + "/" + name, () -> service
        .getBlobContainerClient(container).getBlobClient(blob(jobId, name)).getBlockBlobClient()
        .getBlobOutputStream(transfer, new BlobHttpHeaders().setContentType("application/fhir+ndjson"), null, null, null));
    String what = "write " + container + "/" + jobId + "/" + name;
    // blocks are uploaded while the stream is written and at close: their failures come from there
    return new FilterOutputStream(blob) {
      @Override
      public void write(byte[] b, int off, int len) throws IOException {
        guarded(what, () -> out.write(b, off, len));
      }

      @Override
      public void write(int b) throws IOException {
        guarded(what, () -> out.write(b));
      }

      @Override
      public void flush() throws IOException {
        guarded(what, out::flush);
      }

      @Override
      public void close() throws IOException {
        guarded(what, out::close);
      }
    };
  }

  /** An operation on an upload stream. */
  private interface StreamCall {
    void run() throws IOException;
  }

  private void guarded(String what, StreamCall call) throws IOException {
    try {
      call.run();
    } catch (IOException | RuntimeException e) {
      throw classified(what, e);
    }
  }

  @Override
  public void persist(String container, UUID jobId, List<String> names) {
    // a block blob exists only once its block list is committed, which closing its stream does
  }

  @Override
  public void delete(String container, UUID jobId, String name) throws StoreUnreachable {
    call("delete " + container + "/" + jobId + "/" + name,
        () -> service.getBlobContainerClient(container).getBlobClient(blob(jobId, name)).deleteIfExists());
  }

  @Override
  public void deleteJob(String container, UUID jobId) throws StoreUnreachable {
    call("delete the files of " + container + "/" + jobId, () -> {
      BlobContainerClient c = service.getBlobContainerClient(container);
      if (c.exists()) {
        c.listBlobs(new ListBlobsOptions().setPrefix(jobId + "/"), null)
            .forEach(b -> c.getBlobClient(b.getName()).deleteIfExists());
      }
      return null;
    });
  }

  private <T> T call(String what, Supplier<T> action) throws StoreUnreachable {
    try {
      return action.get();
    } catch (RuntimeException e) {
      IOException classified = classified(what, e);
      if (classified instanceof StoreUnreachable u) {
        throw u;
      }
      throw e;
    }
  }

  /**
   * A failure to reach the store as {@link StoreUnreachable}, in words; the SDK's exception
   * (its class, status and XML body are for operators, not clients) is its cause, which the
   * export logs with the job's id.
   */
  private IOException classified(String what, Exception e) {
    String reason = unreachable(e);
    if (reason == null) {
      return e instanceof IOException io ? io : new IOException("Azure Blob storage failed to " + what, e);
    }
    return new StoreUnreachable("Azure Blob storage at " + service.getAccountUrl() + " could not be reached ("
        + reason + ")", e);
  }

  /** Why the store counts as unreachable, in words; null when it answered with an ordinary error. */
  private static String unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof BlobStorageException b) {
        int status = b.getStatusCode();
        if (status == 408 || status == 429 || status >= 500) {
          return "it answered HTTP " + status;
        }
        return null;
      }
      String network = StoreUnreachable.networkReason(t);
      if (network != null) {
        return network;
      }
    }
    return null;
  }

  /**
   * Blob {@code <name>} of the container {@code anonymization}. Its properties are read first
   * (size, ETag, and the {@code If-Match} check), then its content under {@code If-Match} of the
   * ETag just seen, so the bytes are exactly those of that ETag even if the blob is replaced.
   */
  @Override
  public ConfigRead readConfig(String name, String ifMatch, long maxBytes) {
    String place = "in the container '" + ExportNames.ANONYMIZATION_CONTAINER + "' of the Azure Blob store";
    if (!ExportNames.isConfigName(name)) {
      return new ConfigRead.Missing(place);
    }
    BlobClient blob = service.getBlobContainerClient(ExportNames.ANONYMIZATION_CONTAINER).getBlobClient(name);
    try {
      BlobRequestConditions condition = ifMatch == null ? null
          : new BlobRequestConditions().setIfMatch(LocalOutputStore.quoted(ifMatch));
      BlobProperties properties = blob.getPropertiesWithResponse(condition, null, Context.NONE).getValue();
      if (properties.getBlobSize() > maxBytes) {
        return new ConfigRead.TooLarge(properties.getBlobSize());
      }
      String etag = properties.getETag();
      BlobDownloadContentResponse content = blob.downloadContentWithResponse(new DownloadRetryOptions(),
          new BlobRequestConditions().setIfMatch(etag), null, Context.NONE);
      return new ConfigRead.Found(content.getValue().toBytes(), etag);
    } catch (BlobStorageException e) {
      return switch (e.getStatusCode()) {
        case 404 -> new ConfigRead.Missing(place);
        case 412 -> new ConfigRead.Changed();
        default -> throw e;
      };
    }
  }

  @Override
  public String url(String fhirBase, String container, UUID jobId, String name, Instant expires) {
    BlobContainerClient c = service.getBlobContainerClient(container);
    BlobClient blob = c.getBlobClient(blob(jobId, name));
    BlobServiceSasSignatureValues values = new BlobServiceSasSignatureValues(expires.atOffset(ZoneOffset.UTC),
        new BlobSasPermission().setReadPermission(true));
    // the SDK's blob URL encodes the '/' of the name; the readable form is the same blob
    return c.getBlobContainerUrl() + "/" + jobId + "/" + name + "?" + signer.sas(blob, values, expires);
  }

  /** How the manifest's URLs are signed: the two kinds of SAS a client can read with. */
  private sealed interface Signer {
    String sas(BlobClient blob, BlobServiceSasSignatureValues values, Instant expires);

    /** A service SAS signed with the account key the client was built with. */
    record AccountKey() implements Signer {
      @Override
      public String sas(BlobClient blob, BlobServiceSasSignatureValues values, Instant expires) {
        return blob.generateSas(values);
      }
    }

    /**
     * A user-delegation SAS. One key serves every URL until a URL outlives it: keys live as
     * long as Azure allows (7 days), so a server asks for about one a week, not one per file.
     */
    final class UserDelegation implements Signer {
      /** Key validity starts this much before now: the storage service's clock may be behind ours. */
      private static final Duration SKEW = Duration.ofMinutes(5);
      private final BlobServiceClient service;
      private final Clock clock;
      private UserDelegationKey key;

      UserDelegation(BlobServiceClient service, Clock clock) {
        this.service = service;
        this.clock = clock;
      }

      @Override
      public String sas(BlobClient blob, BlobServiceSasSignatureValues values, Instant expires) {
        return blob.generateUserDelegationSas(values, key(expires));
      }

      private synchronized UserDelegationKey key(Instant expires) {
        if (key == null || key.getSignedExpiry().toInstant().isBefore(expires)) {
          Instant now = clock.instant();
          OffsetDateTime start = now.minus(SKEW).atOffset(ZoneOffset.UTC);
          // Azure wants the key's expiry within 7 days of now; a minute's margin for the trip
          OffsetDateTime expiry = now.plus(LONGEST_USER_DELEGATION).minusSeconds(60).atOffset(ZoneOffset.UTC);
          try {
            key = service.getUserDelegationKey(start, expiry);
          } catch (RuntimeException e) {
            // the status call answers 503 (try again later) rather than a manifest nobody can read
            throw new FhirException(503, List.of(Issue.error(Issue.Code.TRANSIENT,
                "the Azure Blob store at " + service.getAccountUrl() + " did not give a user delegation key to sign"
                    + " the files' URLs with; try again later").withMessage(MessageCode.EXPORT_STORE_UNREACHABLE)), e);
          }
        }
        return key;
      }
    }
  }

  @Override
  public boolean requiresAccessToken() {
    return false;
  }

  private static String blob(UUID jobId, String name) {
    if (!ExportNames.isFileName(name)) {
      throw new IllegalArgumentException("not an export file name: " + name);
    }
    return jobId + "/" + name;
  }
}

package dev.sluice.export;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Files as objects {@code <prefix>/<container>/<job id>/<name>} of one bucket: the export's
 * container is a key segment, not a bucket. Objects are written with server-side encryption
 * (SSE-S3, or SSE-KMS with the given key) and uploaded as they are written: a file that grows
 * past one part becomes a multipart upload, so a file being written holds at most one part in
 * memory. The manifest gives presigned GETs valid until the export expires, so downloads need
 * no FHIR token and no AWS credentials.
 *
 * <p>Credentials come from the SDK's default chain (environment, profile, container or
 * instance role, web identity). The SDK retries each call a few times; a store that stays away
 * longer surfaces as {@link StoreUnreachable}, as for Azure.
 */
public final class S3OutputStore implements OutputStore {
  /** The longest a SigV4 presigned URL may be valid. */
  public static final Duration LONGEST_PRESIGN = Duration.ofDays(7);
  /** S3's smallest part of a multipart upload (all but the last). */
  public static final long SMALLEST_PART = 5L * 1024 * 1024;
  private static final String CONTENT_TYPE = "application/fhir+ndjson";

  private final S3Client s3;
  private final S3Presigner presigner;
  private final String bucket;
  private final String prefix;
  private final String kmsKeyId;
  private final int partBytes;
  private final String where;

  /**
   * @param prefix key prefix ("" for none), without leading or trailing '/'
   * @param region null for the SDK's default region chain
   * @param endpoint an S3-compatible server, addressed path-style; null for AWS
   * @param kmsKeyId null for SSE-S3
   * @param partBytes size of each uploaded part: the memory one file being written holds
   */
  public S3OutputStore(String bucket, String prefix, String region, URI endpoint, String kmsKeyId, int partBytes) {
    this.bucket = bucket;
    this.prefix = prefix.isEmpty() ? "" : prefix + "/";
    this.kmsKeyId = kmsKeyId;
    this.partBytes = partBytes;
    this.where = "S3 bucket " + bucket + (endpoint == null ? "" : " at " + endpoint);
    AwsCredentialsProvider credentials = DefaultCredentialsProvider.builder().build();
    S3Endpoint at = new S3Endpoint(region, endpoint);
    this.s3 = at.client(credentials);
    this.presigner = at.presigner(credentials);
  }

  /** The bucket must exist and be reachable: containers are key prefixes and need no creating. */
  @Override
  public void prepare(String container) throws IOException {
    if (!ExportNames.isContainer(container)) {
      throw new IllegalArgumentException("not an export container: " + container);
    }
    try {
      call("find the bucket", () -> s3.headBucket(b -> b.bucket(bucket)));
    } catch (S3Exception e) {
      throw new IOException(where + (e.statusCode() == 404 ? " does not exist" : " cannot be used")
          + " (HTTP " + e.statusCode() + ")", e);
    }
  }

  @Override
  public OutputStream create(String container, UUID jobId, String name) {
    return new Upload(key(container, jobId, name));
  }

  @Override
  public void persist(String container, UUID jobId, List<String> names) {
    // an object exists only once its upload is complete, which closing its stream does
  }

  @Override
  public void delete(String container, UUID jobId, String name) throws IOException {
    String key = key(container, jobId, name);
    call("delete " + key, () -> s3.deleteObject(d -> d.bucket(bucket).key(key)));
  }

  @Override
  public void deleteJob(String container, UUID jobId) throws IOException {
    if (!ExportNames.isContainer(container)) {
      return;
    }
    String jobPrefix = prefix + container + "/" + jobId + "/";
    call("delete the files of " + jobPrefix, () -> {
      // one DeleteObject each: DeleteObjects needs a Content-MD5 that emulators check differently
      for (S3Object o : s3.listObjectsV2Paginator(l -> l.bucket(bucket).prefix(jobPrefix)).contents()) {
        s3.deleteObject(d -> d.bucket(bucket).key(o.key()));
      }
      return null;
    });
  }

  /** A presigned GET valid until {@code expires}, at most {@link #LONGEST_PRESIGN} (the config checks retention). */
  @Override
  public String url(String fhirBase, String container, UUID jobId, String name, Instant expires) {
    String key = key(container, jobId, name);
    Duration valid = Duration.between(Instant.now(), expires);
    if (valid.compareTo(Duration.ofSeconds(1)) < 0) {
      valid = Duration.ofSeconds(1);
    } else if (valid.compareTo(LONGEST_PRESIGN) > 0) {
      valid = LONGEST_PRESIGN;
    }
    Duration duration = valid;
    return presigner.presignGetObject(p -> p.signatureDuration(duration).getObjectRequest(g -> g.bucket(bucket).key(key)))
        .url().toString();
  }

  /**
   * Object {@code <prefix>/anonymization/<name>}: its metadata first (size, ETag, and the
   * {@code If-Match} check), then its content under {@code If-Match} of the ETag just seen.
   */
  @Override
  public ConfigRead readConfig(String name, String ifMatch, long maxBytes) throws IOException {
    String place = "under the key prefix '" + prefix + ExportNames.ANONYMIZATION_CONTAINER + "/' of the S3 store";
    if (!ExportNames.isConfigName(name)) {
      return new ConfigRead.Missing(place);
    }
    String key = prefix + ExportNames.ANONYMIZATION_CONTAINER + "/" + name;
    try {
      HeadObjectResponse head = call("read " + key, () -> s3.headObject(h -> h.bucket(bucket).key(key)
          .ifMatch(ifMatch == null ? null : LocalOutputStore.quoted(ifMatch))));
      if (head.contentLength() > maxBytes) {
        return new ConfigRead.TooLarge(head.contentLength());
      }
      String etag = head.eTag();
      ResponseBytes<GetObjectResponse> bytes = call("read " + key,
          () -> s3.getObjectAsBytes(g -> g.bucket(bucket).key(key).ifMatch(etag)));
      return new ConfigRead.Found(bytes.asByteArray(), etag);
    } catch (S3Exception e) {
      return switch (e.statusCode()) {
        case 404 -> new ConfigRead.Missing(place);
        case 412 -> new ConfigRead.Changed();
        default -> throw e;
      };
    }
  }

  @Override
  public boolean requiresAccessToken() {
    return false;
  }

  private String key(String container, UUID jobId, String name) {
    if (!ExportNames.isContainer(container) || !ExportNames.isFileName(name)) {
      throw new IllegalArgumentException("not an export file: " + container + "/" + jobId + "/" + name);
    }
    return prefix + container + "/" + jobId + "/" + name;
  }

  private <T> T call(String what, Supplier<T> action) throws StoreUnreachable {
    try {
      return action.get();
    } catch (SdkException e) {
      String reason = unreachable(e);
      if (reason != null) {
        throw new StoreUnreachable(where + " could not be reached (" + reason + ")", e);
      }
      throw e;
    }
  }

  /** A failure as an IOException: {@link StoreUnreachable} when the store did not answer. */
  private IOException classified(String what, RuntimeException e) {
    String reason = unreachable(e);
    if (reason != null) {
      return new StoreUnreachable(where + " could not be reached (" + reason + ")", e);
    }
    return new IOException(where + " failed to " + what, e);
  }

  /** Why the store counts as unreachable, in words; null when it answered with an ordinary error. */
  private static String unreachable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof S3Exception s) {
        int status = s.statusCode();
        return status == 408 || status == 429 || status >= 500 ? "it answered HTTP " + status : null;
      }
      String network = StoreUnreachable.networkReason(t);
      if (network != null) {
        return network;
      }
    }
    return null;
  }

  /**
   * One object being written: bytes gather in a buffer of at most one part; the first full part
   * starts a multipart upload, and closing sends the rest (a small file: one PutObject).
   * A failed upload is aborted, so no half-written object or dangling parts stay behind.
   */
  private final class Upload extends OutputStream {
    private final String key;
    private byte[] buffer = new byte[Math.min(partBytes, 64 * 1024)];
    private int size;
    private String uploadId;
    private final List<CompletedPart> parts = new ArrayList<>();
    private boolean closed;

    Upload(String key) {
      this.key = key;
    }

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("upload of " + key + " is closed");
      }
      while (len > 0) {
        if (size == partBytes) {
          sendPart();
        }
        int n = Math.min(len, partBytes - size);
        if (size + n > buffer.length) {
          buffer = Arrays.copyOf(buffer, (int) Math.min(partBytes, Math.max((long) buffer.length * 2, size + n)));
        }
        System.arraycopy(b, off, buffer, size, n);
        size += n;
        off += n;
        len -= n;
      }
    }

    private void sendPart() throws IOException {
      guarded("upload a part of " + key, () -> {
        if (uploadId == null) {
          uploadId = s3.createMultipartUpload(c -> encrypted(c.bucket(bucket).key(key).contentType(CONTENT_TYPE)))
              .uploadId();
        }
        int number = parts.size() + 1;
        String etag = s3.uploadPart(u -> u.bucket(bucket).key(key).uploadId(uploadId).partNumber(number)
            .contentLength((long) size), RequestBody.fromBytes(Arrays.copyOf(buffer, size))).eTag();
        parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
      });
      size = 0;
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      if (uploadId == null) {
        guarded("write " + key, () -> s3.putObject(p -> encrypted(p.bucket(bucket).key(key).contentType(CONTENT_TYPE)
            .contentLength((long) size)), RequestBody.fromBytes(Arrays.copyOf(buffer, size))));
      } else {
        if (size > 0) {
          sendPart();
        }
        guarded("complete " + key, () -> s3.completeMultipartUpload(c -> c.bucket(bucket).key(key)
            .uploadId(uploadId).multipartUpload(m -> m.parts(parts))));
      }
      buffer = null;
    }

    private void guarded(String what, Runnable call) throws IOException {
      try {
        call.run();
      } catch (RuntimeException e) {
        closed = true;
        buffer = null;
        abort();
        throw classified(what, e);
      }
    }

    private void abort() {
      if (uploadId == null) {
        return;
      }
      try {
        s3.abortMultipartUpload(a -> a.bucket(bucket).key(key).uploadId(uploadId));
      } catch (RuntimeException e) {
        // the store is away; the bucket's lifecycle rule for incomplete uploads cleans up (docs/export.md)
      }
    }
  }

  private PutObjectRequest.Builder encrypted(PutObjectRequest.Builder b) {
    return kmsKeyId == null ? b.serverSideEncryption(ServerSideEncryption.AES256)
        : b.serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(kmsKeyId);
  }

  private CreateMultipartUploadRequest.Builder encrypted(CreateMultipartUploadRequest.Builder b) {
    return kmsKeyId == null ? b.serverSideEncryption(ServerSideEncryption.AES256)
        : b.serverSideEncryption(ServerSideEncryption.AWS_KMS).ssekmsKeyId(kmsKeyId);
  }
}

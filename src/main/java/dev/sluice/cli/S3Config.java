package dev.sluice.cli;

import dev.sluice.export.S3Endpoint;
import dev.sluice.export.S3OutputStore;
import dev.sluice.imports.S3Inputs;
import java.net.URI;
import java.util.List;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Where {@code --export-storage s3} writes (flags {@code --s3-*}; see docs/config.md).
 *
 * @param prefix key prefix inside the bucket, "" for none
 * @param region null: the SDK's region chain (AWS_REGION, the profile, the instance)
 * @param endpoint an S3-compatible server (path-style addressing); null for AWS itself
 * @param kmsKeyId SSE-KMS with this key; null for SSE-S3
 * @param partBytes size of each multipart upload part: the memory a file being written holds
 */
public record S3Config(String bucket, String prefix, String region, String endpoint, String kmsKeyId, long partBytes) {
  /** The default part size: above S3's 5 MiB minimum, and 10,000 parts make 80 GiB, far above a file's size limit. */
  public static final long DEFAULT_PART_BYTES = 8L * 1024 * 1024;
  private static final long LARGEST_PART = 512L * 1024 * 1024;

  public S3Config {
    prefix = prefix == null ? "" : trimSlashes(prefix);
  }

  /** No S3 settings (another store is used). */
  public static S3Config none() {
    return new S3Config(null, "", null, null, null, DEFAULT_PART_BYTES);
  }

  private static String trimSlashes(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '/') {
      start++;
    }
    while (end > start && s.charAt(end - 1) == '/') {
      end--;
    }
    return s.substring(start, end);
  }

  void validate(long retentionSeconds, List<String> problems) {
    if (bucket == null || bucket.isBlank()) {
      problems.add("--export-storage s3 needs --s3-bucket (SLUICE_S3_BUCKET)");
    }
    if (endpoint != null) {
      try {
        URI u = URI.create(endpoint);
        if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme()) || u.getHost() == null) {
          problems.add("--s3-endpoint (SLUICE_S3_ENDPOINT) must be an http or https URL, got " + endpoint);
        }
      } catch (IllegalArgumentException e) {
        problems.add("--s3-endpoint (SLUICE_S3_ENDPOINT) must be an http or https URL, got " + endpoint);
      }
    }
    if (partBytes < S3OutputStore.SMALLEST_PART || partBytes > LARGEST_PART) {
      problems.add("--s3-part-size (SLUICE_S3_PART_SIZE) must be between " + S3OutputStore.SMALLEST_PART + " and "
          + LARGEST_PART + " bytes, got " + partBytes);
    }
    if (retentionSeconds > S3OutputStore.LONGEST_PRESIGN.toSeconds()) {
      problems.add("--export-retention (SLUICE_EXPORT_RETENTION) must be at most " + S3OutputStore.LONGEST_PRESIGN.toSeconds()
          + " seconds (7 days) with --export-storage s3: presigned URLs live 7 days at most, got " + retentionSeconds);
    }
  }

  /** The bucket as a source of {@code $import} inputs, reached as the store reaches it. */
  S3Inputs inputs() {
    S3Endpoint at = new S3Endpoint(region, endpoint == null ? null : URI.create(endpoint));
    S3Client client = at.client(DefaultCredentialsProvider.builder().build());
    return new S3Inputs(client, bucket, at.roots(client.serviceClientConfiguration().region()));
  }

  S3OutputStore store() {
    return new S3OutputStore(bucket, prefix, region, endpoint == null ? null : URI.create(endpoint), kmsKeyId,
        (int) partBytes);
  }

  @Override
  public String toString() {
    return "bucket=" + bucket + ", prefix=" + prefix + ", region=" + region + ", endpoint=" + endpoint
        + ", kmsKeyId=" + kmsKeyId + ", partBytes=" + partBytes;
  }
}

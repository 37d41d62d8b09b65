package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;

/** The S3 store on its own against a real S3Mock: multipart uploads, SSE-KMS, and what a missing bucket says. */
@ExtendWith(S3Mock.class)
class S3OutputStoreTest {
  /** The key id of the ARN S3Mock is started with (S3Mock checks ids, as S3 accepts them). */
  private static final String KMS_KEY = "sluice-test";
  private static final int PART = (int) S3OutputStore.SMALLEST_PART;
  private static S3Client s3;

  @BeforeAll
  static void client() {
    s3 = S3Client.builder().endpointOverride(URI.create(S3Mock.endpoint())).forcePathStyle(true)
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED).build();
  }

  private static S3OutputStore store(String bucket, String kmsKeyId) {
    return new S3OutputStore(bucket, "store-test", "us-east-1", URI.create(S3Mock.endpoint()), kmsKeyId, PART);
  }

  private static byte[] download(String url) throws Exception {
    HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static HeadObjectResponse head(String container, UUID job, String name) {
    return s3.headObject(h -> h.bucket(S3Mock.BUCKET).key("store-test/" + container + "/" + job + "/" + name));
  }

  @Test
  void a_file_larger_than_a_part_is_a_multipart_upload_of_exactly_the_bytes_written() throws Exception {
    S3OutputStore store = store(S3Mock.BUCKET, null);
    UUID job = UUID.randomUUID();
    byte[] bytes = new byte[2 * PART + 12345];
    new Random(7).nextBytes(bytes);
    store.prepare("multipart");
    try (OutputStream out = store.create("multipart", job, "Observation-1.ndjson")) {
      // odd-sized writes cross the part boundaries
      for (int off = 0; off < bytes.length; off += 100_003) {
        out.write(bytes, off, Math.min(100_003, bytes.length - off));
      }
    }
    HeadObjectResponse head = head("multipart", job, "Observation-1.ndjson");
    assertThat(head.eTag()).as("a multipart ETag counts its parts").endsWith("-3\"");
    assertThat(head.contentLength()).isEqualTo(bytes.length);
    // (S3Mock reports no encryption for objects completed from parts: SSE is checked on single PUTs)
    String url = store.url("http://unused", "multipart", job, "Observation-1.ndjson", Instant.now().plusSeconds(600));
    assertThat(download(url)).isEqualTo(bytes);
  }

  @Test
  void a_small_file_is_one_put_and_a_kms_key_makes_it_sse_kms() throws Exception {
    S3OutputStore store = store(S3Mock.BUCKET, KMS_KEY);
    UUID job = UUID.randomUUID();
    try (OutputStream out = store.create("kms", job, "Patient-1.ndjson")) {
      out.write("{\"resourceType\":\"Patient\"}\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
    HeadObjectResponse head = head("kms", job, "Patient-1.ndjson");
    assertThat(head.eTag()).doesNotContain("-");
    assertThat(head.serverSideEncryption()).isEqualTo(ServerSideEncryption.AWS_KMS);
    assertThat(head.ssekmsKeyId()).endsWith(KMS_KEY);
  }

  @Test
  void presigned_urls_live_until_the_export_expires_and_never_past_seven_days() {
    S3OutputStore store = store(S3Mock.BUCKET, null);
    UUID job = UUID.randomUUID();
    String hour = store.url("http://unused", "expiry", job, "Patient-1.ndjson", Instant.now().plus(Duration.ofHours(1)));
    assertThat(hour).containsPattern("X-Amz-Expires=(3600|3599)&");
    String month = store.url("http://unused", "expiry", job, "Patient-1.ndjson", Instant.now().plus(Duration.ofDays(30)));
    assertThat(month).contains("X-Amz-Expires=604800&");
  }

  @Test
  void a_missing_bucket_is_an_error_of_the_store_not_an_outage() {
    S3OutputStore store = store("no-such-bucket", null);
    assertThatThrownBy(() -> store.prepare("anything")).isNotInstanceOf(StoreUnreachable.class)
        .hasMessageContaining("S3 bucket no-such-bucket at " + S3Mock.endpoint() + " does not exist (HTTP 404)");
  }

  @Test
  void a_stopped_server_is_unreachable() throws Exception {
    S3OutputStore store = new S3OutputStore(S3Mock.BUCKET, "", "us-east-1",
        URI.create("http://127.0.0.1:" + dev.sluice.testing.ChildServer.freePort()), null, PART);
    assertThatThrownBy(() -> store.prepare("anything")).isInstanceOf(StoreUnreachable.class)
        .hasMessageContaining("could not be reached (connection refused)");
    OutputStream out = store.create("anything", UUID.randomUUID(), "Patient-1.ndjson");
    out.write(1);
    assertThatThrownBy(out::close).isInstanceOf(StoreUnreachable.class);
  }
}

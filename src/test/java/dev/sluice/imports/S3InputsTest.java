package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.export.S3Endpoint;
import dev.sluice.fhir.FhirException;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/** The URLs of a bucket on AWS itself that an input may have (the S3Mock test covers an endpoint's). */
class S3InputsTest {
  private static S3Client client;
  private static S3Inputs inputs;

  @BeforeAll
  static void build() {
    S3Endpoint aws = new S3Endpoint("eu-west-1", null);
    client = aws.client(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")));
    inputs = new S3Inputs(client, "med-bucket", aws.roots(Region.EU_WEST_1));
  }

  @AfterAll
  static void close() {
    client.close();
  }

  @Test
  void s3_urls_and_the_regions_virtual_host_and_path_style_urls_name_the_key() {
    for (String url : new String[] {"s3://med-bucket/move/Patient-1.ndjson",
        "https://med-bucket.s3.eu-west-1.amazonaws.com/move/Patient-1.ndjson",
        "https://s3.eu-west-1.amazonaws.com/med-bucket/move/Patient-1.ndjson",
        "https://med-bucket.s3.amazonaws.com/move/Patient-1.ndjson",
        "https://S3.AMAZONAWS.COM/med-bucket/move/Patient-1.ndjson",
        "https://med-bucket.s3.eu-west-1.amazonaws.com/move/Patient-1.ndjson?X-Amz-Signature=abc"}) {
      assertThat(inputs.key(url)).as(url).contains("move/Patient-1.ndjson");
    }
  }

  @Test
  void an_https_urls_key_is_percent_decoded_and_an_s3_urls_is_taken_as_written() {
    assertThat(inputs.key("https://med-bucket.s3.eu-west-1.amazonaws.com/move/a%20b.ndjson")).contains("move/a b.ndjson");
    assertThat(inputs.key("s3://med-bucket/move/a%20b.ndjson")).contains("move/a%20b.ndjson");
  }

  @Test
  void urls_of_no_s3_endpoint_are_not_the_buckets_to_judge() {
    for (String url : new String[] {"https://example.com/med-bucket/x.ndjson",
        "http://med-bucket.s3.eu-west-1.amazonaws.com/x.ndjson", "https://med-bucket.s3.us-east-2.amazonaws.com/x.ndjson",
        "move/Patient-1.ndjson", "file:///etc/x.ndjson"}) {
      assertThat(inputs.key(url)).as(url).isEqualTo(Optional.empty());
    }
  }

  @Test
  void other_buckets_and_keys_without_a_proper_name_are_400() {
    for (String url : new String[] {"s3://other-bucket/x.ndjson", "https://other.s3.eu-west-1.amazonaws.com/x.ndjson",
        "https://s3.eu-west-1.amazonaws.com/other/x.ndjson", "s3://med-bucket", "s3://med-bucket/",
        "s3://med-bucket/a/../x.ndjson", "s3://med-bucket/a//x.ndjson", "https://s3.eu-west-1.amazonaws.com/med-bucket"}) {
      assertThatThrownBy(() -> inputs.key(url)).as(url).isInstanceOf(FhirException.class)
          .hasMessageContaining(url).extracting(e -> ((FhirException) e).status()).isEqualTo(400);
    }
  }
}

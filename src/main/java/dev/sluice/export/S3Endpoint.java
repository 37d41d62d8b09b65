package dev.sluice.export;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.RegionMetadata;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * Where S3 is: AWS itself (in a region, or the SDK's region chain's), or an S3-compatible
 * server addressed path-style. The export store and the import's inputs reach it with the same
 * client settings.
 *
 * @param region null for the SDK's default region chain
 * @param endpoint an S3-compatible server; null for AWS
 */
public record S3Endpoint(String region, URI endpoint) {
  /** A client: the default HTTP client with timeouts, checksums only where S3 requires them. */
  public S3Client client(AwsCredentialsProvider credentials) {
    S3ClientBuilder client = S3Client.builder().credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(10))
            .socketTimeout(Duration.ofMinutes(2)).build())
        // emulators and many S3-compatible servers reject the newer default checksums
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    if (region != null) {
      client.region(Region.of(region));
    }
    if (endpoint != null) {
      client.endpointOverride(endpoint).forcePathStyle(true);
    }
    return client.build();
  }

  S3Presigner presigner(AwsCredentialsProvider credentials) {
    S3Presigner.Builder presign = S3Presigner.builder().credentialsProvider(credentials);
    if (region != null) {
      presign.region(Region.of(region));
    }
    if (endpoint != null) {
      presign.endpointOverride(endpoint)
          .serviceConfiguration(S3Configuration.builder().pathStyleAccessEnabled(true).build());
    }
    return presign.build();
  }

  /**
   * The roots of the service's URLs: {@code [root]/bucket/key} is an object path-style, and
   * {@code [scheme]://bucket.[root host]/key} virtual-host style. The configured endpoint; for
   * AWS the region's endpoint and the global one.
   *
   * @param resolved the region the client uses (the configured one, or the chain's)
   */
  public List<URI> roots(Region resolved) {
    if (endpoint != null) {
      return List.of(endpoint);
    }
    RegionMetadata metadata = RegionMetadata.of(resolved);
    String domain = metadata == null ? "amazonaws.com" : metadata.domain();
    return List.of(URI.create("https://s3." + resolved.id() + "." + domain),
        URI.create("https://s3." + domain));
  }
}

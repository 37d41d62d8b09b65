package dev.sluice.imports;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Issue;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Inputs in the S3 bucket the server is configured with (the export store's {@code --s3-bucket},
 * any key of it, as Azure inputs may be any blob of the account): {@code s3://bucket/key}, or
 * the object's URL at the endpoint, path-style ({@code [endpoint]/bucket/key}) or virtual-host
 * style ({@code [scheme]://bucket.[endpoint host]/key}). Read with the server's own credentials
 * (the SDK's default chain), so an object of another bucket is never fetched.
 *
 * <p>An input is checked at kick-off (it exists, and has the {@code etag} the request gives), and
 * its ETag then is kept with the part: every read of it, a resumed one included, reads that
 * version, so line numbers and checkpoints always mean the same lines.
 */
public final class S3Inputs {
  private static final String PARAMETER = "Parameters.parameter.part.url";

  private final S3Client s3;
  private final String bucket;
  private final List<URI> roots;

  /** @param roots the service's URL roots ({@code export.S3Endpoint#roots}) */
  public S3Inputs(S3Client s3, String bucket, List<URI> roots) {
    this.s3 = s3;
    this.bucket = bucket;
    this.roots = List.copyOf(roots);
  }

  /**
   * The key of a URL of this bucket; empty when the URL is no S3 URL at all (neither
   * {@code s3://} nor one of the endpoint's).
   *
   * @throws FhirException 400 for an S3 URL of another bucket, or without a proper key
   */
  Optional<String> key(String url) {
    String u = url.contains("?") ? url.substring(0, url.indexOf('?')) : url;
    String inBucket;
    String path;
    if (u.regionMatches(true, 0, "s3://", 0, 5)) {
      // as the AWS CLI writes them: bucket and key as they are, nothing percent-encoded
      String rest = u.substring(5);
      int slash = rest.indexOf('/');
      inBucket = slash < 0 ? rest : rest.substring(0, slash);
      path = slash < 0 ? "" : rest.substring(slash + 1);
    } else {
      Optional<String[]> https = atEndpoint(u);
      if (https.isEmpty()) {
        return Optional.empty();
      }
      inBucket = https.get()[0];
      path = https.get()[1];
    }
    if (!inBucket.equals(bucket)) {
      throw FhirException.badRequest("Input '" + url + "' is not in this server's S3 bucket '" + bucket
          + "' (docs/import.md)", PARAMETER);
    }
    if (path.isEmpty() || path.endsWith("/")) {
      throw FhirException.badRequest("Input '" + url + "' names no object of the S3 bucket '" + bucket + "'",
          PARAMETER);
    }
    for (String segment : path.split("/")) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw FhirException.badRequest("Input '" + url + "' has an empty, '.' or '..' segment in its key",
            PARAMETER);
      }
    }
    return Optional.of(path);
  }

  /** {bucket, key} of an http(s) URL at one of the roots, path-style or virtual-host style. */
  private Optional<String[]> atEndpoint(String url) {
    URI u;
    try {
      u = new URI(url);
    } catch (URISyntaxException e) {
      return Optional.empty();
    }
    String given = hostOf(u);
    if (u.getScheme() == null || given == null || u.getRawPath() == null) {
      return Optional.empty();
    }
    String host = given.toLowerCase(Locale.ROOT);
    String path = u.getPath().startsWith("/") ? u.getPath().substring(1) : u.getPath();
    for (URI root : roots) {
      if (!root.getScheme().equalsIgnoreCase(u.getScheme()) || port(root) != port(u)) {
        continue;
      }
      String rootHost = root.getHost().toLowerCase(Locale.ROOT);
      if (host.equals(rootHost)) {
        int slash = path.indexOf('/');
        return Optional.of(slash < 0 ? new String[] {path, ""}
            : new String[] {path.substring(0, slash), path.substring(slash + 1)});
      }
      if (host.endsWith("." + rootHost)) {
        return Optional.of(new String[] {given.substring(0, host.length() - rootHost.length() - 1), path});
      }
    }
    return Optional.empty();
  }

  /**
   * The host of a URL; {@code bucket.127.0.0.1} too, which {@link URI} does not take for a host
   * name (an endpoint given by its address still has a virtual-host form).
   */
  private static String hostOf(URI u) {
    if (u.getHost() != null || u.getRawAuthority() == null) {
      return u.getHost();
    }
    String authority = u.getRawAuthority();
    if (authority.contains("@") || authority.contains("%")) {
      return null;
    }
    int colon = authority.lastIndexOf(':');
    return colon < 0 ? authority : authority.substring(0, colon);
  }

  private static int port(URI u) {
    if (u.getPort() >= 0) {
      return u.getPort();
    }
    if (u.getHost() == null && u.getRawAuthority() != null && u.getRawAuthority().lastIndexOf(':') > 0) {
      try {
        return Integer.parseInt(u.getRawAuthority().substring(u.getRawAuthority().lastIndexOf(':') + 1));
      } catch (NumberFormatException e) {
        return -1;
      }
    }
    return "https".equalsIgnoreCase(u.getScheme()) ? 443 : 80;
  }

  /**
   * The object's ETag, once it is known to exist and to match the request's {@code etag}.
   *
   * @param etag the input's {@code etag}, or null
   * @throws FhirException 400 when it does not exist or cannot be read, 412 when its ETag is
   *     another, 503 when S3 does not answer
   */
  String check(String url, String key, String etag) {
    HeadObjectResponse head;
    try {
      head = s3.headObject(h -> h.bucket(bucket).key(key));
    } catch (S3Exception e) {
      if (e.statusCode() == 404) {
        throw FhirException.badRequest("Input '" + url + "' does not exist in the S3 bucket '" + bucket + "'",
            PARAMETER);
      }
      if (e.statusCode() == 403 || e.statusCode() == 400) {
        throw FhirException.badRequest("Input '" + url + "' cannot be read with this server's S3 credentials (HTTP "
            + e.statusCode() + ")", PARAMETER);
      }
      throw unavailable(url, e);
    } catch (SdkException e) {
      throw unavailable(url, e);
    }
    if (etag != null && (head.eTag() == null || !bare(etag).equals(bare(head.eTag())))) {
      throw new FhirException(412, Issue.error(Issue.Code.CONFLICT, "Input '" + url + "' has changed: its etag is "
          + head.eTag() + ", the request's etag is " + etag, "Parameters.parameter.part.etag"));
    }
    // a server that gives no ETag: read without the version check ("" in the location)
    return head.eTag() == null ? "" : head.eTag();
  }

  private static FhirException unavailable(String url, SdkException e) {
    return new FhirException(503, List.of(Issue.error(Issue.Code.TRANSIENT, "Input '" + url
        + "' could not be checked: the S3 store did not answer (" + e.getMessage() + "); try again later")), e);
  }

  /** An ETag without quotes or the weak marker: servers differ in how they write them. */
  private static String bare(String etag) {
    String e = etag.startsWith("W/") ? etag.substring(2) : etag;
    return e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"") ? e.substring(1, e.length() - 1) : e;
  }

  /** Opens the object {@code key} as it was when its ETag was {@code etag}; the caller closes it. */
  InputStream open(String key, String etag) throws IOException {
    return new S3ObjectStream(s3, bucket, key, etag);
  }
}

package dev.sluice.imports;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * One version of an S3 object, read from start to end over as many GETs as it takes. The SDK
 * retries a GET that fails to start, not one that breaks off mid-way (S3 drops long
 * connections, networks fail): that one is continued here from the byte it stopped at, with a
 * {@code Range}, under {@code If-Match} of the version's ETag, so the bytes are always those of
 * the version checked at kick-off.
 *
 * <p>An answer shorter than its {@code Content-Length} counts as broken off too, never as the
 * object's end: a line lost there would be lost silently.
 *
 * <p>The object gone or changed is an {@link IOException}: the input is unreadable, one error.
 * S3 away for longer than the retries is an {@link UncheckedIOException}: the part is given
 * back and claimed again later from its checkpoint, the input is not failed for an outage.
 */
final class S3ObjectStream extends InputStream {
  private static final int RETRIES = 3;

  private final S3Client s3;
  private final String bucket;
  private final String key;
  private final String etag;
  private ResponseInputStream<GetObjectResponse> in;
  private long position;
  /** Where the current GET's answer ends, by its Content-Length; -1 when it did not say. */
  private long end = -1;
  private boolean ended;

  /** Opens nothing yet: the first read does, so that S3 being away is handled as for any later read. */
  S3ObjectStream(S3Client s3, String bucket, String key, String etag) {
    this.s3 = s3;
    this.bucket = bucket;
    this.key = key;
    this.etag = etag;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n <= 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    for (int failures = 0; ; failures++) {
      if (ended) {
        return -1;
      }
      try {
        if (in == null) {
          in = get(failures);
          if (ended) {
            return -1;
          }
        }
        int n = in.read(b, off, len);
        if (n < 0 && position < end) {
          // the connection ended before the answer did (an HTTP client may report that as an end)
          throw new IOException("S3 object " + key + " ended at byte " + position + " of " + end);
        }
        if (n < 0) {
          ended = true;
        } else {
          position += n;
        }
        return n;
      } catch (IOException e) {
        if (e instanceof Unreadable) {
          throw e;
        }
        closeQuietly();
        if (failures >= RETRIES) {
          throw new UncheckedIOException("S3 object " + key + " broke off at byte " + position + ", "
              + (RETRIES + 1) + " times", e);
        }
      }
    }
  }

  /** A GET from {@link #position} on; after a failure, a pause first. */
  private ResponseInputStream<GetObjectResponse> get(int failures) throws IOException {
    if (failures > 0) {
      try {
        Thread.sleep(500L << Math.min(failures, 4));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while reading S3 object " + key, e);
      }
    }
    long from = position;
    try {
      ResponseInputStream<GetObjectResponse> got = s3.getObject(g -> g.bucket(bucket).key(key).ifMatch(etag.isEmpty() ? null : etag)
          .range(from == 0 ? null : "bytes=" + from + "-"));
      Long length = got.response().contentLength();
      end = length == null ? -1 : from + length;
      return got;
    } catch (S3Exception e) {
      switch (e.statusCode()) {
        case 412 -> throw new Unreadable("S3 object " + key + " has changed since the import was started (its ETag is"
            + " no longer " + etag + ")", e);
        case 404 -> throw new Unreadable("S3 object " + key + " no longer exists", e);
        case 416 -> {
          ended = true; // broken off right at the end: nothing is left
          return null;
        }
        case 403 -> throw new Unreadable("S3 object " + key + " cannot be read with this server's credentials", e);
        default -> throw new IOException("S3 object " + key + ": HTTP " + e.statusCode(), e);
      }
    } catch (SdkException e) {
      throw new IOException("S3 object " + key + " could not be reached: " + e.getMessage(), e);
    }
  }

  private void closeQuietly() {
    if (in != null) {
      try {
        in.abort();
      } catch (RuntimeException e) {
        // the connection is gone already
      }
      in = null;
    }
  }

  @Override
  public void close() {
    if (ended && in != null) {
      try {
        in.close(); // read to its end: the connection can be used again
      } catch (IOException e) {
        // nothing is left to read
      }
      in = null;
    }
    closeQuietly();
  }

  /** The object itself cannot be read as the import needs it: retrying does not help. */
  private static final class Unreadable extends IOException {
    Unreadable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}

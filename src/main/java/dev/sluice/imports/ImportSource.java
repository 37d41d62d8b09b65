package dev.sluice.imports;

import dev.sluice.fhir.FhirException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.zip.GZIPInputStream;

/**
 * Where inputs are read from: the import folder ({@code <data-dir>/imports} or
 * {@code --import-dir}), and the export store's Azure Blob account or S3 bucket when the server
 * has one. A URL is a path relative to the folder, a {@code file:} URL inside it, or a URL of
 * the account's blobs or the bucket's objects; anything else is refused at kick-off, so that an
 * import never reads a file elsewhere on the server or fetches a URL of someone else's choosing.
 */
public final class ImportSource {
  /** Locations of blobs start with this; paths in the folder never do (they are relative). */
  private static final String BLOB = "blob:";
  /** Locations of S3 objects: {@code s3:<ETag> <key>} (an ETag holds no space). */
  private static final String S3 = "s3:";

  private final Path root;
  private final Optional<BlobInputs> blobs;
  private final Optional<S3Inputs> objects;

  /**
   * @param blobs the Azure Blob account inputs may also come from, when the server has one
   * @param objects the S3 bucket inputs may also come from, when the server has one
   */
  public ImportSource(Path root, Optional<BlobInputs> blobs, Optional<S3Inputs> objects) {
    this.root = root.toAbsolutePath().normalize();
    this.blobs = blobs;
    this.objects = objects;
  }

  public Path root() {
    return root;
  }

  /**
   * The location of an input URL: its path relative to the folder, its blob, or its S3 object
   * (checked now: it exists, with the given {@code etag}; the ETag it has is kept).
   *
   * @param etag the input's {@code etag} or null; checked for S3 objects only
   * @throws FhirException 400 when the URL names anything outside the folder and the store, or
   *     not NDJSON, or a missing S3 object; 412 for an S3 object whose ETag is not {@code etag}
   */
  String locate(String url, String etag) {
    if (url == null || url.isBlank()) {
      throw FhirException.badRequest("An input has no url", "Parameters.parameter.part.url");
    }
    Optional<String> key = objects.flatMap(o -> o.key(url));
    if (key.isPresent()) {
      requireNdjson(url, key.get());
      return S3 + objects.get().check(url, key.get(), etag) + " " + key.get();
    }
    Optional<String> blob = blobs.flatMap(b -> b.locate(url));
    if (blob.isPresent()) {
      requireNdjson(url, blob.get());
      return BLOB + blob.get();
    }
    Path path;
    try {
      if (url.regionMatches(true, 0, "file:", 0, 5)) {
        path = Path.of(new URI(url));
      } else if (url.contains("://") || url.contains("\\") || url.startsWith("/")) {
        throw outside(url);
      } else {
        path = root.resolve(url);
      }
    } catch (URISyntaxException | IllegalArgumentException | java.nio.file.FileSystemNotFoundException e) {
      throw outside(url);
    }
    Path normal = path.toAbsolutePath().normalize();
    if (!normal.startsWith(root) || normal.equals(root)) {
      throw outside(url);
    }
    requireNdjson(url, normal.getFileName().toString());
    String relative = root.relativize(normal).toString();
    if (relative.startsWith(BLOB) || relative.startsWith(S3)) {
      throw outside(url); // a folder named so would be read as a blob or an object
    }
    return relative;
  }

  private static void requireNdjson(String url, String name) {
    if (!name.endsWith(".ndjson") && !name.endsWith(".ndjson.gz")) {
      throw FhirException.badRequest("Input '" + url + "' is neither .ndjson nor .ndjson.gz",
          "Parameters.parameter.part.url");
    }
  }

  private FhirException outside(String url) {
    return FhirException.badRequest("Input '" + url + "' is not in this server's import folder: give a path"
        + " relative to it, or a file: URL inside it" + (blobs.isPresent() ? ", or a blob URL of its Azure account" : "")
        + (objects.isPresent() ? ", or a URL of its S3 bucket" : "") + " (docs/import.md)",
        "Parameters.parameter.part.url");
  }

  /** Opens an input, decompressed when its name ends in {@code .gz}. The caller closes it. */
  InputStream open(String location) throws IOException {
    if (location.startsWith(S3)) {
      int space = location.indexOf(' ');
      S3Inputs s3 = objects.orElseThrow(() -> new IOException("no S3 store is configured"));
      InputStream in = new BufferedInputStream(s3.open(location.substring(space + 1),
          location.substring(S3.length(), space)), 65536);
      return location.endsWith(".gz") ? new GZIPInputStream(in, 65536) : in;
    }
    if (location.startsWith(BLOB)) {
      InputStream in = new BufferedInputStream(blobs.orElseThrow(() -> new IOException("no blob store configured"))
          .open(location.substring(BLOB.length())), 65536);
      return location.endsWith(".gz") ? new GZIPInputStream(in, 65536) : in;
    }
    // the real path: a symbolic link in the folder must not lead a client to a file outside it
    Path path = root.resolve(location).toRealPath();
    if (!path.startsWith(root.toRealPath())) {
      throw new IOException("'" + location + "' leads outside the import folder");
    }
    InputStream in = new BufferedInputStream(Files.newInputStream(path), 65536);
    return location.endsWith(".gz") ? new GZIPInputStream(in, 65536) : in;
  }
}

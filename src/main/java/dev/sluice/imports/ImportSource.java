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
 * {@code --import-dir}). A URL is a path relative to it, or a {@code file:} URL inside it;
 * anything else is refused at kick-off, so that an import never reads a file elsewhere on the
 * server or fetches a URL of someone else's choosing.
 */
public final class ImportSource {
  /** Locations of blobs start with this; paths in the folder never do (they are relative). */
  private static final String BLOB = "blob:";

  private final Path root;
  private final Optional<BlobInputs> blobs;

  /** @param blobs the Azure Blob account inputs may also come from, when the server has one */
  public ImportSource(Path root, Optional<BlobInputs> blobs) {
    this.root = root.toAbsolutePath().normalize();
    this.blobs = blobs;
  }

  public Path root() {
    return root;
  }

  /**
   * The location of an input URL: its path relative to the folder.
   *
   * @throws FhirException 400 when the URL names anything outside the folder, or not NDJSON
   */
  String locate(String url) {
    if (url == null || url.isBlank()) {
      throw FhirException.badRequest("An input has no url", "Parameters.parameter.part.url");
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
    return root.relativize(normal).toString();
  }

  private static void requireNdjson(String url, String name) {
    if (!name.endsWith(".ndjson") && !name.endsWith(".ndjson.gz")) {
      throw FhirException.badRequest("Input '" + url + "' is neither .ndjson nor .ndjson.gz",
          "Parameters.parameter.part.url");
    }
  }

  private FhirException outside(String url) {
    return FhirException.badRequest("Input '" + url + "' is not in this server's import folder: give a path"
        + " relative to it, or a file: URL inside it (docs/import.md)", "Parameters.parameter.part.url");
  }

  /** Opens an input, decompressed when its name ends in {@code .gz}. The caller closes it. */
  InputStream open(String location) throws IOException {
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

package dev.sluice.export;

import dev.sluice.fhir.Sha256;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Files under {@code <data-dir>/exports/<container>/<job id>/}, downloaded from this server at
 * {@code [base]/_operations/export/<job id>/<name>}.
 */
public final class LocalOutputStore implements OutputStore {
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  private static final Set<PosixFilePermission> OWNER_DIR = PosixFilePermissions.fromString("rwx------");

  private final Path root;
  private final boolean protectedByTokens;
  private final GzipCopies gzipCopies = new GzipCopies();
  private final GzipCopyTime gzipCopyTime;

  /** Files downloaded without a token, from a server without authorization ({@code --auth none}). */
  public LocalOutputStore(Path root) {
    this(root, false);
  }

  /** @param protectedByTokens downloads need an access token of the job's client (any --auth but none) */
  public LocalOutputStore(Path root, boolean protectedByTokens) {
    this(root, protectedByTokens, GzipCopyTime.DOWNLOAD);
  }

  /** @param gzipCopyTime when a file's gzip copy is made ({@code --export-gzip-copy}) */
  public LocalOutputStore(Path root, boolean protectedByTokens, GzipCopyTime gzipCopyTime) {
    this.root = root.toAbsolutePath().normalize();
    this.protectedByTokens = protectedByTokens;
    this.gzipCopyTime = gzipCopyTime;
  }

  /** The file's path; refuses anything that would leave the export directory. */
  public Path path(String container, UUID jobId, String name) {
    Path p = root.resolve(container).resolve(jobId.toString()).resolve(name).normalize();
    if (!p.startsWith(root) || !ExportNames.isContainer(container) || !ExportNames.isFileName(name)) {
      throw new IllegalArgumentException("not an export file: " + container + "/" + jobId + "/" + name);
    }
    return p;
  }

  /**
   * Export files hold patient data: only the server's user may read them (0600 in 0700
   * folders), set after creation because the umask would only ever take bits away.
   */
  @Override
  public void prepare(String container) throws IOException {
    if (!ExportNames.isContainer(container)) {
      throw new IllegalArgumentException("not an export container: " + container);
    }
    // job directories are made with their first file
    Files.createDirectories(root.resolve(container));
  }

  @Override
  public OutputStream create(String container, UUID jobId, String name) throws IOException {
    Path p = path(container, jobId, name);
    createPrivateDirectories(p.getParent());
    FileChannel channel = FileChannel.open(p,
        Set.of(StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE),
        PosixFilePermissions.asFileAttribute(OWNER_FILE));
    Files.setPosixFilePermissions(p, OWNER_FILE);
    // a file written again (its part redone) must not keep the copy of its earlier bytes
    Files.deleteIfExists(GzipCopies.copyOf(p));
    OutputStream plain = new WriteBehindFile(channel);
    return gzipCopyTime == GzipCopyTime.WRITE ? GzipCopies.writing(p, plain) : plain;
  }

  /** From the export root down to {@code dir}, each folder this store makes is 0700. */
  private void createPrivateDirectories(Path dir) throws IOException {
    Path d = root.getParent();
    for (Path part : root.getParent().relativize(dir)) {
      d = d.resolve(part);
      if (Files.isDirectory(d)) {
        continue;
      }
      try {
        Files.createDirectory(d, PosixFilePermissions.asFileAttribute(OWNER_DIR));
      } catch (FileAlreadyExistsException e) {
        continue; // another worker made it just now, the same way
      }
      Files.setPosixFilePermissions(d, OWNER_DIR);
      // the new folder's name, like its files' (persist), must survive a crash
      ForcedFiles.forceFolder(d.getParent());
    }
  }

  /**
   * The gzip copy of a finished file, for a download that accepts gzip: made on the first such
   * request, beside the file (0600 like it), and removed with it or with the job.
   */
  public Path gzipped(String container, UUID jobId, String name) throws IOException {
    return gzipCopies.of(path(container, jobId, name));
  }

  /**
   * Forces the files and the gzip copies written with them (their folder too) to the disk: only
   * then does their part record them as finished (docs/export.md, "Stores").
   */
  @Override
  public void persist(String container, UUID jobId, List<String> names) throws IOException {
    List<Path> files = new ArrayList<>();
    for (String name : names) {
      Path p = path(container, jobId, name);
      files.add(p);
      if (gzipCopyTime == GzipCopyTime.WRITE) {
        files.add(GzipCopies.copyOf(p));
      }
    }
    ForcedFiles.force(files);
  }

  @Override
  public void delete(String container, UUID jobId, String name) throws IOException {
    Path file = path(container, jobId, name);
    Files.deleteIfExists(file);
    Files.deleteIfExists(GzipCopies.copyOf(file));
  }

  @Override
  public void deleteJob(String container, UUID jobId) throws IOException {
    Path dir = root.resolve(container).resolve(jobId.toString()).normalize();
    if (!dir.startsWith(root) || !Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        try {
          Files.deleteIfExists(p);
        } catch (NoSuchFileException e) {
          // removed concurrently by the worker that wrote it
        }
      }
    }
    Path containerDir = dir.getParent();
    try (Stream<Path> rest = Files.list(containerDir)) {
      if (rest.findAny().isEmpty()) {
        Files.deleteIfExists(containerDir);
      }
    } catch (IOException e) {
      // another job just created or removed the container directory: leave it
    }
  }

  /**
   * Configurations live in {@code <data-dir>/exports/anonymization/<name>}. Their ETag is the
   * quoted lowercase hex SHA-256 of the file's bytes, so it changes exactly when the content does.
   */
  @Override
  public ConfigRead readConfig(String name, String ifMatch, long maxBytes) throws IOException {
    Path dir = root.resolve(ExportNames.ANONYMIZATION_CONTAINER);
    Path p = dir.resolve(name).normalize();
    if (!ExportNames.isConfigName(name) || !p.getParent().equals(dir)) {
      return new ConfigRead.Missing("in " + dir.toAbsolutePath());
    }
    if (!Files.isRegularFile(p)) {
      return new ConfigRead.Missing("at " + p.toAbsolutePath());
    }
    long size = Files.size(p);
    if (size > maxBytes) {
      return new ConfigRead.TooLarge(size);
    }
    byte[] bytes = Files.readAllBytes(p);
    String etag = etag(bytes);
    if (ifMatch != null && !etag.equals(quoted(ifMatch))) {
      return new ConfigRead.Changed();
    }
    return new ConfigRead.Found(bytes, etag);
  }

  /** The local ETag of a configuration: {@code "<sha-256 hex>"}. */
  public static String etag(byte[] bytes) {
    return '"' + Sha256.hex(bytes) + '"';
  }

  /** ETags are compared quoted, as Azure does: a client may leave the quotes out. */
  static String quoted(String etag) {
    return etag.startsWith("\"") ? etag : '"' + etag + '"';
  }

  @Override
  public String url(String fhirBase, String container, UUID jobId, String name, Instant expires) {
    return fhirBase + "/_operations/export/" + jobId + "/" + name;
  }

  @Override
  public boolean requiresAccessToken() {
    // The guide: true when the files are protected like the API itself, as they are with
    // authorization on: a download goes through the same filter and owner check as the status.
    return protectedByTokens;
  }
}

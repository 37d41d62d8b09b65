package dev.sluice.export;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;

/**
 * The gzip copies of finished export files, for clients that send {@code Accept-Encoding: gzip}:
 * a file is compressed once, on its first such request, into {@code <name>.gz} beside it, and
 * every later request is served that copy as a file. Compressing while the export writes would
 * slow every export for the clients that never ask; compressing on every request would spend
 * the CPU again for each download. Requests for a copy being made wait for it (one compression).
 */
final class GzipCopies {
  private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
  /** zlib's fastest level: NDJSON of FHIR still shrinks about tenfold, at several times level 6's speed. */
  private static final int LEVEL = Deflater.BEST_SPEED;
  private static final int BUFFER_BYTES = 256 * 1024;

  private final ConcurrentHashMap<Path, CompletableFuture<Path>> making = new ConcurrentHashMap<>();

  /** The copy's path for {@code file}: never a valid export file name, so never listed or served as one. */
  static Path copyOf(Path file) {
    return file.resolveSibling(file.getFileName() + ".gz");
  }

  /** The gzip copy of {@code file}, made now if it does not exist yet. */
  Path of(Path file) throws IOException {
    Path copy = copyOf(file);
    if (Files.isRegularFile(copy)) {
      return copy;
    }
    CompletableFuture<Path> mine = new CompletableFuture<>();
    CompletableFuture<Path> running = making.putIfAbsent(copy, mine);
    if (running != null) {
      return await(running);
    }
    try {
      if (!Files.isRegularFile(copy)) {
        compress(file, copy);
      }
      mine.complete(copy);
      return copy;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      making.remove(copy, mine);
    }
  }

  /** Written under a temporary name and renamed: a reader sees no copy or the whole one. */
  private static void compress(Path file, Path copy) throws IOException {
    Path part = copy.resolveSibling(copy.getFileName() + "." + UUID.randomUUID() + ".part");
    try {
      Files.createFile(part, PosixFilePermissions.asFileAttribute(OWNER_FILE));
      Files.setPosixFilePermissions(part, OWNER_FILE);
      try (InputStream in = Files.newInputStream(file);
          OutputStream out = new LevelledGzip(Files.newOutputStream(part), BUFFER_BYTES, LEVEL)) {
        in.transferTo(out);
      }
      Files.move(part, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(part);
    }
  }

  private static Path await(CompletableFuture<Path> running) throws IOException {
    try {
      return running.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while another request compressed the file", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof NoSuchFileException gone) {
        throw gone;
      }
      throw new IOException("the gzip copy could not be made: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** GZIPOutputStream at a chosen level (its constructor offers only the default). */
  private static final class LevelledGzip extends GZIPOutputStream {
    LevelledGzip(OutputStream out, int size, int level) throws IOException {
      super(out, size);
      def.setLevel(level);
    }
  }
}

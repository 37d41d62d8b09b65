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
 * a file is compressed once into {@code <name>.gz} beside it, and every gzip request is served
 * that copy as a file. By default the copy is made on a file's first such request: compressing
 * while the export writes slows every export (about three times its own CPU on the bench's data),
 * also for clients that never ask. {@code --export-gzip-copy write} makes it while the file is
 * written instead ({@link #writing}), for servers whose clients mostly take gzip: no download
 * then waits for a compression. Compressing on every request would spend the CPU again for each
 * download. Requests for a copy being made wait for it (one compression).
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
    Path part = temporary(copy);
    try {
      try (InputStream in = Files.newInputStream(file);
          OutputStream out = new LevelledGzip(Files.newOutputStream(part), BUFFER_BYTES, LEVEL)) {
        in.transferTo(out);
      }
      // served as soon as it is in place: on the disk before its name is, or a crash of the
      // machine could leave a copy cut short under the final name
      ForcedFiles.forceFile(part);
      Files.move(part, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      ForcedFiles.forceFolder(copy.getParent());
    } finally {
      Files.deleteIfExists(part);
    }
  }

  /**
   * {@code plain}, the stream of {@code file} being written, with the file's gzip copy written
   * alongside; the copy is put in place when the stream closes, before the file is recorded as
   * finished, so a file that can be downloaded already has it.
   */
  static OutputStream writing(Path file, OutputStream plain) throws IOException {
    Path copy = copyOf(file);
    Path part = temporary(copy);
    try {
      return new WritingBoth(plain, new LevelledGzip(Files.newOutputStream(part), BUFFER_BYTES, LEVEL), part, copy);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(part);
      throw e;
    }
  }

  /** A new, empty file for a copy being made, private like the export's files. */
  private static Path temporary(Path copy) throws IOException {
    Path part = copy.resolveSibling(copy.getFileName() + "." + UUID.randomUUID() + ".part");
    Files.createFile(part, PosixFilePermissions.asFileAttribute(OWNER_FILE));
    Files.setPosixFilePermissions(part, OWNER_FILE);
    return part;
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

  /** Every byte to the file and to its copy; the copy renamed into place at close. */
  private static final class WritingBoth extends OutputStream {
    private final OutputStream plain;
    private final OutputStream gzip;
    private final Path part;
    private final Path copy;
    private boolean closed;

    WritingBoth(OutputStream plain, OutputStream gzip, Path part, Path copy) {
      this.plain = plain;
      this.gzip = gzip;
      this.part = part;
      this.copy = copy;
    }

    @Override
    public void write(int b) throws IOException {
      plain.write(b);
      gzip.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      plain.write(b, off, len);
      gzip.write(b, off, len);
    }

    @Override
    public void flush() throws IOException {
      plain.flush();
    }

    @Override
    public void close() throws IOException {
      if (closed) {
        return;
      }
      closed = true;
      try {
        try {
          gzip.close();
        } finally {
          plain.close();
        }
        // forced to the disk with its file, name and bytes, by the part's persist (LocalOutputStore)
        Files.move(part, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(part);
      }
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

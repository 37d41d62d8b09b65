package dev.sluice.export;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Puts files written through the page cache on the disk, with their folders' entries. The
 * files are forced at once, each from a thread of its own: a file system commits the forces that
 * wait together in one journal write, where forcing them one after the other waits for one
 * commit each (forced one by one as they closed, a Group of 10's fifteen small files took its job
 * 10-40 ms longer; together, nothing measurable: bench/README.md, "Export files forced to the disk").
 */
final class ForcedFiles {
  private ForcedFiles() {}

  /** Forces {@code files} (those that exist), then each of their folders once. */
  static void force(List<Path> files) throws IOException {
    List<Path> present = files.stream().filter(Files::isRegularFile).toList();
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> forces = new ArrayList<>(present.size());
      for (Path f : present) {
        forces.add(threads.submit(() -> {
          forceFile(f);
          return null;
        }));
      }
      for (Future<?> f : forces) {
        await(f);
      }
    }
    for (Path folder : present.stream().map(Path::getParent).distinct().toList()) {
      forceFolder(folder);
    }
  }

  /** Forces one file's bytes to the disk (not its name: see forceFolder). */
  static void forceFile(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      channel.force(false);
    }
  }

  /** Forces a folder's entries (a file made, renamed or deleted in it) to the disk. */
  static void forceFolder(Path folder) throws IOException {
    try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }

  private static void await(Future<?> force) throws IOException {
    try {
      force.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while forcing files to the disk", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException("forcing a file to the disk failed", e.getCause());
    }
  }
}

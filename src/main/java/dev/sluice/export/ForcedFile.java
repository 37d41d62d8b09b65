package dev.sluice.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.util.Set;

/**
 * A file whose bytes are on the disk when its stream's {@code close} returns, and its name in
 * its folder too. A part records its files as finished after closing them, and a manifest lists
 * only finished files: without the force, a crash of the machine (not only of the process) in the
 * next half minute, while the kernel still held the pages, would leave a completed job naming
 * files that are empty or cut short, where the job's rows in PostgreSQL (fsync on) survive. Cost:
 * bench/README.md, "Export files forced to the disk".
 */
final class ForcedFile extends OutputStream {
  private final Path path;
  private final FileChannel channel;
  private final OutputStream out;
  private boolean closed;

  private ForcedFile(Path path, FileChannel channel) {
    this.path = path;
    this.channel = channel;
    this.out = Channels.newOutputStream(channel);
  }

  /** Opens {@code path} for writing with these options and attributes (as {@link FileChannel#open}). */
  static OutputStream open(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attributes)
      throws IOException {
    return new ForcedFile(path, FileChannel.open(path, options, attributes));
  }

  @Override
  public void write(int b) throws IOException {
    out.write(b);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try (channel) {
      channel.force(false);
    }
    forceFolder(path.getParent());
  }

  /** Forces a folder's entries (a file made, renamed or deleted in it) to the disk. */
  static void forceFolder(Path folder) throws IOException {
    try (FileChannel dir = FileChannel.open(folder, StandardOpenOption.READ)) {
      dir.force(true);
    }
  }
}

package dev.sluice.export;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.concurrent.CompletableFuture;

/**
 * An export file's stream that asks the kernel to write what it holds of the file every
 * {@link #BEHIND_BYTES} bytes, on a thread of its own while the export goes on writing. A part
 * forces its files before it records them ({@link OutputStore#persist}); without this the whole
 * of a large file would be written out then, with the part waiting, where the disk sat idle
 * while the file was made (bench/README.md, "Export files forced to the disk").
 */
final class WriteBehindFile extends OutputStream {
  static final long BEHIND_BYTES = 8L << 20;

  private final FileChannel channel;
  private long written;
  private long lastForced;
  private CompletableFuture<Void> forcing = CompletableFuture.completedFuture(null);
  private boolean closed;

  WriteBehindFile(FileChannel channel) {
    this.channel = channel;
  }

  @Override
  public void write(int b) throws IOException {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] b, int off, int len) throws IOException {
    ByteBuffer buffer = ByteBuffer.wrap(b, off, len);
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
    written += len;
    if (written - lastForced >= BEHIND_BYTES && forcing.isDone()) {
      lastForced = written;
      // a failed force here changes nothing: persist forces the file again and reports
      forcing = CompletableFuture.runAsync(this::forceQuietly, command -> Thread.ofVirtual().start(command));
    }
  }

  private void forceQuietly() {
    try {
      channel.force(false);
    } catch (IOException e) {
      // persist's force of the whole file is the one that counts
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    // a force in flight would fail when its channel closes under it
    forcing.join();
    channel.close();
  }
}

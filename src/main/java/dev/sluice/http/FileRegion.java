package dev.sluice.http;

import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.eclipse.jetty.server.HttpOutput;

/**
 * Bytes {@code from} to {@code from + length} of a file as a response body, sent the way Jetty
 * sends static files: Jetty reads the file channel into its own pooled direct buffers and
 * writes them to the socket, so the bytes never pass through the Java heap and nothing but one
 * buffer is held whatever the file's size.
 */
final class FileRegion implements ReadableByteChannel {
  /** Jetty's read size for the channel: large enough that syscalls do not dominate, pooled by Jetty. */
  private static final int BUFFER_BYTES = 64 * 1024;

  private final FileChannel channel;
  private long position;
  private long left;

  private FileRegion(FileChannel channel, long from, long length) {
    this.channel = channel;
    this.position = from;
    this.left = length;
  }

  /** Sends the region as the whole body of {@code response}, with its Content-Length. */
  static void send(HttpServletResponse response, Path file, long from, long length) throws IOException {
    response.setContentLengthLong(length);
    response.setBufferSize(BUFFER_BYTES);
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
      FileRegion region = new FileRegion(channel, from, length);
      ServletOutputStream out = response.getOutputStream();
      if (out instanceof HttpOutput jetty) {
        jetty.sendContent(region);
        return;
      }
      // not Jetty's own stream (a wrapping filter): copy through a buffer
      ByteBuffer buffer = ByteBuffer.allocate(BUFFER_BYTES);
      while (region.read(buffer) > 0) {
        out.write(buffer.array(), 0, buffer.position());
        buffer.clear();
      }
    }
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    if (left <= 0) {
      return -1;
    }
    int limit = dst.limit();
    if (dst.remaining() > left) {
      dst.limit(dst.position() + (int) left);
    }
    try {
      int n = channel.read(dst, position);
      if (n < 0) {
        // the file is shorter than the length announced: a truncated body, not a hang
        throw new IOException("the file ended " + left + " bytes before the length sent");
      }
      position += n;
      left -= n;
      return n;
    } finally {
      dst.limit(limit);
    }
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  @Override
  public void close() {
    // the channel is closed by send
  }
}

package dev.sluice.load;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.GZIPInputStream;

/**
 * Reads the lines of one {@code .ndjson} or {@code .ndjson.gz} file as raw bytes, without
 * decoding them: the loader sends them on as they are. Counts the file bytes read (compressed,
 * for gz) so that progress can tell how much of the input is done.
 */
final class NdjsonReader implements AutoCloseable {
  /** The longest line accepted; longer ones fail alone (the server's default body limit is 64 MB). */
  static final int MAX_LINE_BYTES = 64 * 1024 * 1024;

  /** A line as read; {@code bytes} is null when the line was longer than the limit. */
  record RawLine(long number, byte[] bytes) {}

  private final InputStream in;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(8192);
  private final byte[] buffer = new byte[65536];
  private int pos;
  private int limit;
  private long lineNumber;

  NdjsonReader(Path file, AtomicLong fileBytesRead) throws IOException {
    InputStream raw = new CountingStream(Files.newInputStream(file), fileBytesRead);
    this.in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 65536) : raw;
  }

  /** The next non-blank line, or null at the end of the file. */
  RawLine next() throws IOException {
    while (true) {
      line.reset();
      boolean tooLong = false;
      boolean ended = false;
      while (!ended) {
        if (pos == limit) {
          limit = in.read(buffer, 0, buffer.length);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            if (line.size() == 0 && !tooLong) {
              return null;
            }
            break;
          }
        }
        int start = pos;
        while (pos < limit && buffer[pos] != '\n') {
          pos++;
        }
        int n = pos - start;
        if (pos < limit) {
          pos++;
          ended = true;
        }
        if (line.size() + n <= MAX_LINE_BYTES) {
          line.write(buffer, start, n);
        } else {
          tooLong = true;
        }
      }
      lineNumber++;
      if (tooLong) {
        return new RawLine(lineNumber, null);
      }
      byte[] bytes = trimmed(line.toByteArray());
      if (bytes.length > 0) {
        return new RawLine(lineNumber, bytes);
      }
    }
  }

  private static byte[] trimmed(byte[] bytes) {
    int end = bytes.length;
    while (end > 0 && (bytes[end - 1] == '\r' || bytes[end - 1] == ' ' || bytes[end - 1] == '\t')) {
      end--;
    }
    return end == bytes.length ? bytes : Arrays.copyOf(bytes, end);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }

  private static final class CountingStream extends FilterInputStream {
    private final AtomicLong count;

    CountingStream(InputStream in, AtomicLong count) {
      super(in);
      this.count = count;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b != -1) {
        count.incrementAndGet();
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = super.read(b, off, len);
      if (n > 0) {
        count.addAndGet(n);
      }
      return n;
    }
  }
}

package dev.sluice.imports;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The lines of one input as raw bytes, numbered from 1 (blank lines count but are not
 * returned), so that an error names the line an editor shows. Closes the stream it was given.
 */
final class InputLines implements AutoCloseable {
  /** The longest line accepted; a longer one is refused alone. */
  static final int MAX_LINE_BYTES = 64 * 1024 * 1024;

  /** A line; {@code bytes} is null when it was longer than the limit. */
  record Line(long number, byte[] bytes) {}

  private final InputStream in;
  private final ByteArrayOutputStream line = new ByteArrayOutputStream(8192);
  private final byte[] buffer = new byte[65536];
  private int pos;
  private int limit;
  private long number;

  InputLines(InputStream in) {
    this.in = in;
  }

  /** The next line that is not blank, or null at the end. */
  Line next() throws IOException {
    while (true) {
      line.reset();
      boolean tooLong = false;
      boolean ended = false;
      boolean any = false;
      while (!ended) {
        if (pos == limit) {
          limit = in.read(buffer, 0, buffer.length);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            if (!any) {
              return null;
            }
            break;
          }
        }
        any = true;
        int start = pos;
        while (pos < limit && buffer[pos] != '\n') {
          pos++;
        }
        int n = pos - start;
        if (pos < limit) {
          pos++;
          ended = true;
        }
        if (!tooLong) {
          if (line.size() + n > MAX_LINE_BYTES) {
            tooLong = true;
            line.reset();
          } else {
            line.write(buffer, start, n);
          }
        }
      }
      number++;
      if (tooLong) {
        return new Line(number, null);
      }
      byte[] bytes = line.toByteArray();
      int end = bytes.length;
      while (end > 0 && (bytes[end - 1] == '\r' || bytes[end - 1] == ' ' || bytes[end - 1] == '\t')) {
        end--;
      }
      if (end == 0 || isBlank(bytes, end)) {
        continue;
      }
      return new Line(number, end == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, end));
    }
  }

  private static boolean isBlank(byte[] bytes, int end) {
    for (int i = 0; i < end; i++) {
      if (bytes[i] != ' ' && bytes[i] != '\t' && bytes[i] != '\r') {
        return false;
      }
    }
    return true;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}

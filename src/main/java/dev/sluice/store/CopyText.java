package dev.sluice.store;

import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;

/**
 * The rows of one table in COPY text format, built row by row and sent with one COPY. The text
 * is kept as UTF-8 chunks of about {@link #CHUNK_CHARS}, never as one growing buffer: a flush of
 * an import batch holds hundreds of kilobytes per table, and one buffer (doubled as it grew, then
 * copied into a String, a Reader and encoded bytes) made objects larger than half a G1 region
 * (512 KB under a 512 MB heap). Such "humongous" allocations can start a concurrent cycle each:
 * under a JFR recording an InitialLoad's GC took 6.5 of the JVM's 32 CPU-s with them and 1.9
 * without; without the recording they started fewer cycles (bench/README.md, "Import", "The
 * floor, and humongous COPY buffers").
 */
final class CopyText {
  /** A chunk's size in chars, before encoding: far below half the smallest G1 region (1 MB). */
  static final int CHUNK_CHARS = 64 * 1024;

  private final List<byte[]> chunks = new ArrayList<>();
  private final StringBuilder open = new StringBuilder(8192);

  /**
   * The buffer to append the next row to, whole (with its line end): the rows before it are
   * set aside as a chunk once they reach {@link #CHUNK_CHARS}, so no row is split.
   */
  StringBuilder row() {
    if (open.length() >= CHUNK_CHARS) {
      chunks.add(open.toString().getBytes(StandardCharsets.UTF_8));
      open.setLength(0);
    }
    return open;
  }

  boolean isEmpty() {
    return chunks.isEmpty() && open.isEmpty();
  }

  /** Sends every row with one {@code COPY <target> FROM STDIN}. */
  void copyInto(CopyManager copy, String target) throws SQLException {
    CopyIn in = copy.copyIn("copy " + target + " from stdin");
    try {
      for (byte[] chunk : chunks) {
        in.writeToCopy(chunk, 0, chunk.length);
      }
      byte[] last = open.toString().getBytes(StandardCharsets.UTF_8);
      in.writeToCopy(last, 0, last.length);
      in.endCopy();
    } finally {
      if (in.isActive()) {
        in.cancelCopy(); // a failed write: the transaction fails with it
      }
    }
  }
}

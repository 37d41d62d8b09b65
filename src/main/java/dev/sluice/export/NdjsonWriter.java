package dev.sluice.export;

import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportPartRow;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one line per resource into numbered files of one prefix, opening the first file
 * on the first line and the next one past the byte or resource limit. Memory: one buffer
 * of {@code writeBufferBytes}, whatever the size of a resource.
 *
 * <p>Organized output ({@code organizeOutputBy}) writes blocks: {@link #startBlock} writes a
 * block's header, and a file that fills up inside a block is closed as continuing in the next
 * one ({@code continuesInFile}), which starts with the same header, as the guide asks. A file
 * is started before a header when the header and one resource would not fit; a block's first
 * resource always follows its header, even past the byte limit.
 */
final class NdjsonWriter implements AutoCloseable {
  private final OutputStore store;
  private final ExportFileTable files;
  private final ExportPartRow part;
  private final String container;
  private final FileSeries series;
  private final ExportSettings limits;

  private ExportFileRow current;
  private OutputStream out;
  private long fileResources;
  private long fileBytes;
  private long totalResources;
  private long totalBytes;
  /** The header of the open block, or null (not organized, or before the first block). */
  private byte[] blockHeader;
  /** Lines of the open block's resources in the current file. */
  private long blockLinesInFile;
  private long headers;
  /** The files closed so far with their counts, recorded when the part finishes. */
  private final List<ExportFileRow> closed = new ArrayList<>();

  /** The file to open first, allocated beforehand with others ({@link ExportFileTable#allocateFirst}), or null. */
  private ExportFileRow allocated;

  NdjsonWriter(OutputStore store, ExportFileTable files, ExportPartRow part, String container, FileSeries series,
      ExportSettings limits, ExportFileRow allocated) {
    this.allocated = allocated;
    this.store = store;
    this.files = files;
    this.part = part;
    this.container = container;
    this.series = series;
    this.limits = limits;
  }

  /** Writes one resource (minified JSON without newlines) and the newline after it. */
  void write(byte[] b, int off, int len) throws IOException, SQLException {
    boolean full = fileResources >= limits.maxFileResources() || fileBytes + len + 1 > limits.maxFileBytes();
    if (blockHeader != null) {
      if (out != null && blockLinesInFile > 0 && full) {
        ExportFileRow next = files.allocate(part, series.prefix(), series.kind(), series.resType());
        closeFile(next.seq());
        open(next);
        line(blockHeader, 0, blockHeader.length);
        headers++;
        blockLinesInFile = 0;
      }
      blockLinesInFile++;
    } else if (out != null && fileResources > 0 && full) {
      closeFile(null);
    }
    if (out == null) {
      open(allocated != null ? allocated : files.allocate(part, series.prefix(), series.kind(), series.resType()));
      allocated = null;
    }
    line(b, off, len);
  }

  /**
   * Starts a block: writes its header (a Parameters resource naming the block's resource), in
   * a new file when the current one has no room for the header and one resource.
   */
  void startBlock(byte[] header) throws IOException, SQLException {
    if (out != null && fileResources > 0 && (fileResources + 2 > limits.maxFileResources()
        || fileBytes + header.length + 1 > limits.maxFileBytes())) {
      closeFile(null);
    }
    blockHeader = null;
    write(header, 0, header.length);
    headers++;
    blockHeader = header;
    blockLinesInFile = 0;
  }

  private void open(ExportFileRow file) throws IOException {
    current = file;
    out = new BufferedOutputStream(store.create(container, part.jobId(), current.name()), limits.writeBufferBytes());
  }

  private void line(byte[] b, int off, int len) throws IOException {
    out.write(b, off, len);
    out.write('\n');
    fileResources++;
    fileBytes += len + 1;
    totalResources++;
    totalBytes += len + 1;
  }

  void write(byte[] line) throws IOException, SQLException {
    write(line, 0, line.length);
  }

  /** Lines written, block headers left out. */
  long resources() {
    return totalResources - headers;
  }

  long bytes() {
    return totalBytes;
  }

  /** The files closed so far, with their counts. */
  List<ExportFileRow> closed() {
    return closed;
  }

  /** @param continuesSeq the next file's number when the open block goes on there, or null */
  private void closeFile(Integer continuesSeq) throws IOException, SQLException {
    out.close();
    out = null;
    // the counts are written with the part's finish, in its transaction: a file is final only
    // once its part is done, and one statement for all of a part's files saves a commit per file
    closed.add(new ExportFileRow(current.prefix(), current.seq(), series.kind(), series.resType(), fileResources,
        fileBytes, continuesSeq));
    fileResources = 0;
    fileBytes = 0;
  }

  /** Closes the open file and records its counts. */
  @Override
  public void close() throws IOException, SQLException {
    if (out != null) {
      closeFile(null);
    }
  }

  /** Closes the open file without recording anything: the attempt is being thrown away. */
  void abandon() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        // the file is deleted next; a failed close changes nothing
      }
      out = null;
    }
  }
}

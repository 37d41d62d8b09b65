package dev.sluice.export;

import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportPartRow;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.sql.SQLException;

/**
 * Writes one line per resource into numbered files of one prefix, opening the first file
 * on the first line and the next one past the byte or resource limit. Memory: one buffer
 * of {@code writeBufferBytes}, whatever the size of a resource.
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
  private int fileCount;

  NdjsonWriter(OutputStore store, ExportFileTable files, ExportPartRow part, String container, FileSeries series,
      ExportSettings limits) {
    this.store = store;
    this.files = files;
    this.part = part;
    this.container = container;
    this.series = series;
    this.limits = limits;
  }

  /** Writes one resource (minified JSON without newlines) and the newline after it. */
  void write(byte[] b, int off, int len) throws IOException, SQLException {
    if (out != null && (fileResources >= limits.maxFileResources()
        || (fileResources > 0 && fileBytes + len + 1 > limits.maxFileBytes()))) {
      closeFile();
    }
    if (out == null) {
      fileCount++;
      current = files.allocate(part, series.prefix(), series.kind(), series.resType());
      out = new BufferedOutputStream(store.create(container, part.jobId(), current.name()), limits.writeBufferBytes());
    }
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

  long resources() {
    return totalResources;
  }

  long bytes() {
    return totalBytes;
  }

  /** Files opened so far (each holds at least one line). */
  int files() {
    return fileCount;
  }

  private void closeFile() throws IOException, SQLException {
    out.close();
    out = null;
    files.close(part.jobId(), new ExportFileRow(current.prefix(), current.seq(), series.kind(), series.resType(), fileResources,
        fileBytes));
    fileResources = 0;
    fileBytes = 0;
  }

  /** Closes the open file and records its counts. */
  @Override
  public void close() throws IOException, SQLException {
    if (out != null) {
      closeFile();
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

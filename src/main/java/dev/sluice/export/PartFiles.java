package dev.sluice.export;

import dev.sluice.store.ExportFileRow;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of a part's attempts: opens the writers of a series in the job's container, and
 * removes what an earlier or a discarded attempt wrote, from the store and from
 * {@code export_file} together.
 */
public final class PartFiles {
  private static final Logger log = LoggerFactory.getLogger(PartFiles.class);

  private final OutputStore store;
  private final ExportFileTable files;
  private final ExportSettings settings;

  public PartFiles(OutputStore store, ExportFileTable files, ExportSettings settings) {
    this.store = store;
    this.files = files;
    this.settings = settings;
  }

  NdjsonWriter open(ExportJobRow job, ExportPartRow part, FileSeries series) {
    return new NdjsonWriter(store, files, part, job.container(), series, settings, null);
  }

  /**
   * Writers of several series whose first files are recorded at once, in one commit (a shared
   * part's types); a series that gets no line leaves its row at 0 resources, never listed.
   */
  List<NdjsonWriter> open(ExportJobRow job, ExportPartRow part, List<FileSeries> series) throws SQLException {
    List<ExportFileRow> first = files.allocateFirst(part, series.stream().map(FileSeries::prefix).toList(),
        series.stream().map(FileSeries::kind).toList(), series.stream().map(FileSeries::resType).toList());
    List<NdjsonWriter> writers = new ArrayList<>(series.size());
    for (int i = 0; i < series.size(); i++) {
      writers.add(new NdjsonWriter(store, files, part, job.container(), series.get(i), settings, first.get(i)));
    }
    return writers;
  }

  NdjsonWriter errors(ExportJobRow job, ExportPartRow part) {
    return open(job, part, FileSeries.errors());
  }

  /** Makes the files an attempt closed durable in the store, before its part records them (OutputStore#persist). */
  void persist(ExportJobRow job, Written written) throws IOException {
    store.persist(job.container(), job.id(), written.closed().stream().map(ExportFileRow::name).toList());
  }

  /** A retried part first removes the files of the attempts before it. */
  void discardEarlierAttempts(ExportJobRow job, ExportPartRow part) throws SQLException, IOException {
    for (ExportFileRow old : files.discardEarlierAttempts(part)) {
      store.delete(job.container(), job.id(), old.name());
    }
  }

  /** Removes what this attempt wrote; best effort (the job's files go with the job anyway). */
  void discard(ExportJobRow job, ExportPartRow part) {
    try {
      for (ExportFileRow f : files.discardAttempt(part)) {
        store.delete(job.container(), job.id(), f.name());
      }
    } catch (SQLException | IOException | RuntimeException e) {
      // the job's files are removed with the job when it is cancelled or expires
      log.warn("Export {} part {}: could not remove its files: {}", job.id(), part.partNo(), e.toString());
    }
  }
}

package dev.sluice.imports;

import dev.sluice.store.ImportJobTable;
import dev.sluice.store.ImportedVersion;
import dev.sluice.store.VersionImport;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports one claimed part: reads its input from the checkpoint on, checks each line, and
 * writes the lines in batches, each batch with the checkpoint after it in one transaction. A
 * crash loses at most the batch in progress, which the next claim reads again; a line is
 * never imported twice, and a refused line is reported once.
 */
final class PartImport {
  private static final Logger log = LoggerFactory.getLogger(PartImport.class);

  private final ImportJobTable jobs;
  private final ImportSource source;
  private final LineCheck check;
  private final VersionImport writer;
  private final ImportSettings settings;
  private final String owner;

  PartImport(ImportJobTable jobs, ImportSource source, LineCheck check, VersionImport writer, ImportSettings settings,
      String owner) {
    this.jobs = jobs;
    this.source = source;
    this.check = check;
    this.writer = writer;
    this.settings = settings;
    this.owner = owner;
  }

  void run(ImportJobTable.ClaimedPart part, AtomicBoolean stopping) throws SQLException {
    long started = System.nanoTime();
    long imported = 0;
    List<ImportedVersion> batch = new ArrayList<>(settings.batchLines());
    List<ImportJobTable.LineError> refused = new ArrayList<>();
    long batchBytes = 0;
    long lastLine = part.nextLine() - 1;
    try (InputLines lines = new InputLines(source.open(part.location()))) {
      InputLines.Line line;
      while ((line = lines.next()) != null) {
        if (line.number() < part.nextLine()) {
          continue; // imported before the part was taken over
        }
        lastLine = line.number();
        switch (check.check(line.number(), line.bytes(), part.type())) {
          case LineCheck.Checked.Accepted a -> {
            batch.add(a.version());
            batchBytes += line.bytes().length;
          }
          case LineCheck.Checked.Refused r -> refused.add(new ImportJobTable.LineError(r.line(),
              VersionImport.outcome(part.inputUrl(), r.line(), r.reason())));
        }
        if (batch.size() + refused.size() >= settings.batchLines() || batchBytes >= settings.batchBytes()) {
          if (stopping.get()) {
            jobs.release(part, owner);
            return;
          }
          VersionImport.Result result = writer.write(part, owner, settings.lease(), lastLine + 1, batch, refused);
          if (!result.committed()) {
            log.info("Import {} part {}: cancelled or taken over; stopping", part.jobId(), part.partNo());
            return;
          }
          imported += result.imported();
          batch.clear();
          refused.clear();
          batchBytes = 0;
        }
      }
    } catch (IOException e) {
      // missing, unreadable, corrupt gzip: one error for the input, whose lines read so far stay imported
      log.info("Import {} part {}: input {} unreadable: {}", part.jobId(), part.partNo(), part.inputUrl(), e.toString());
      refused.clear();
      batch.clear();
      if (jobs.checkpoint(part, owner, settings.lease(), lastLine + 1, List.of(new ImportJobTable.LineError(0,
          VersionImport.outcome(part.inputUrl(), 0, "the input could not be read: " + e.getMessage()))))) {
        jobs.finish(part, owner, settings.retention());
      }
      return;
    }
    if (!batch.isEmpty() || !refused.isEmpty()) {
      VersionImport.Result result = writer.write(part, owner, settings.lease(), lastLine + 1, batch, refused);
      if (!result.committed()) {
        return;
      }
      imported += result.imported();
    }
    jobs.finish(part, owner, settings.retention());
    log.info("Import {} part {} ({}): {} resources in {} ms", part.jobId(), part.partNo(), part.inputUrl(), imported,
        (System.nanoTime() - started) / 1_000_000);
  }
}

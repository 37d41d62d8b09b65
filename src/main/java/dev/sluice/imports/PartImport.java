package dev.sluice.imports;

import dev.sluice.store.ImportJobTable;
import dev.sluice.store.ImportedVersion;
import dev.sluice.store.VersionImport;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Imports one claimed part: reads its input from the checkpoint on, checks each line, and
 * writes the lines in batches, each batch with the checkpoint after it in one transaction. A
 * crash loses at most the batch in progress, which the next claim reads again; a line is
 * never imported twice, and a refused line is reported once.
 *
 * <p>Reading and checking (the strict parse and each line's index rows: most of an import's
 * CPU in the JVM) run on a thread of their own, one batch ahead of the writes, with the lines
 * of a batch checked in parallel: the parse of the next batch and the database's work on this
 * one use every core, even when one large input is left (bench/README.md, "Import"). A batch
 * handed over holds the lines' bytes and rows, not their parsed models (see
 * {@code store.ResourceIndexRows}). Batches are still written in line order, each with its
 * checkpoint.
 */
final class PartImport {
  private static final Logger log = LoggerFactory.getLogger(PartImport.class);

  /** What the reading thread hands to the writing one. */
  private sealed interface Chunk {
    /** Checked lines; the checkpoint after them is {@code nextLine}. */
    /** {@code parseNanos}: the batch's check, index rows included; {@code indexNanos}: the rows', summed over threads. */
    record Batch(List<ImportedVersion> lines, List<ImportJobTable.LineError> refused, long nextLine, long parseNanos,
        long indexNanos) implements Chunk {}

    /** The input ended. */
    record End() implements Chunk {}

    /** The input could not be read further (missing, corrupt gzip): one error for the input. */
    record Unreadable(long nextLine, IOException error) implements Chunk {}

    /** Reading failed otherwise (a bug, no memory left): the part fails as a failed batch does. */
    record Failed(Throwable error) implements Chunk {}
  }

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
    long parseNanos = 0;
    long writeNanos = 0;
    long indexNanos = 0;
    // a handoff, not a buffer: at most one batch waits while one is written (the heap is small)
    SynchronousQueue<Chunk> chunks = new SynchronousQueue<>();
    Thread reader = Thread.ofPlatform().daemon().name("import-read-" + part.jobId() + "-" + part.partNo())
        .start(() -> read(part, chunks));
    try {
      while (true) {
        Chunk chunk;
        try {
          chunk = chunks.take();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        switch (chunk) {
          case Chunk.Batch b -> {
            boolean full = b.lines().size() + b.refused().size() >= settings.batchLines();
            if (full && stopping.get()) {
              jobs.release(part, owner);
              return;
            }
            parseNanos += b.parseNanos();
            indexNanos += b.indexNanos();
            long t1 = System.nanoTime();
            VersionImport.Result result = writer.write(part.tables(), part, owner, settings.lease(), b.nextLine(),
                b.lines(), b.refused());
            writeNanos += System.nanoTime() - t1;
            if (!result.committed()) {
              log.info("Import {} part {}: cancelled or taken over; stopping", part.jobId(), part.partNo());
              return;
            }
            imported += result.imported();
          }
          case Chunk.Unreadable u -> {
            // the lines read before the failure are imported (the batch before this chunk)
            log.info("Import {} part {}: input {} unreadable: {}", part.jobId(), part.partNo(), part.inputUrl(),
                u.error().toString());
            if (jobs.checkpoint(part, owner, settings.lease(), u.nextLine(), List.of(new ImportJobTable.LineError(0,
                VersionImport.outcome(part.inputUrl(), 0, "the input could not be read: " + u.error().getMessage()))))) {
              jobs.finish(part, owner, settings.retention());
            }
            return;
          }
          case Chunk.Failed f -> {
            throw new IllegalStateException("Reading input " + part.inputUrl() + " failed: " + f.error(), f.error());
          }
          case Chunk.End e -> {
            jobs.finish(part, owner, settings.retention());
            // where the time went (bench/import.sh sums these): reading, parsing and index rows (on
            // the reading side, alongside the writes; the rows also alone, summed over its threads),
            // the writes
            log.info("Import {} part {} ({}): {} resources in {} ms (parse {} ms, index rows {} ms, other write {} ms)",
                part.jobId(), part.partNo(), part.inputUrl(), imported, (System.nanoTime() - started) / 1_000_000,
                parseNanos / 1_000_000, indexNanos / 1_000_000, writeNanos / 1_000_000);
            return;
          }
        }
      }
    } finally {
      reader.interrupt(); // stops a reader still waiting to hand over a batch
    }
  }

  /**
   * On the reading thread: the part's lines from its checkpoint, checked, in batches. The lines
   * of a batch are checked in parallel (the common pool and this thread: every core), in order.
   */
  private void read(ImportJobTable.ClaimedPart part, SynchronousQueue<Chunk> chunks) {
    List<InputLines.Line> raw = new ArrayList<>(settings.batchLines());
    long rawBytes = 0;
    long lastLine = part.nextLine() - 1;
    try {
      try (InputLines lines = new InputLines(source.open(part.location()))) {
        InputLines.Line line;
        while ((line = lines.next()) != null) {
          if (line.number() < part.nextLine()) {
            continue; // imported before the part was taken over
          }
          lastLine = line.number();
          raw.add(line);
          rawBytes += line.bytes() == null ? 0 : line.bytes().length;
          if (raw.size() >= settings.batchLines() || rawBytes >= settings.batchBytes()) {
            chunks.put(checked(part, raw, lastLine + 1));
            raw = new ArrayList<>(settings.batchLines());
            rawBytes = 0;
          }
        }
      } catch (IOException e) {
        if (!raw.isEmpty()) {
          chunks.put(checked(part, raw, lastLine + 1));
        }
        chunks.put(new Chunk.Unreadable(lastLine + 1, e));
        return;
      }
      if (!raw.isEmpty()) {
        chunks.put(checked(part, raw, lastLine + 1));
      }
      chunks.put(new Chunk.End());
    } catch (InterruptedException e) {
      // the writing side stopped (shutdown, cancel, takeover, a failed batch): nothing more to hand over
    } catch (RuntimeException | Error e) {
      raw = null; // what was read goes, so that an OutOfMemoryError leaves room for the handover
      try {
        chunks.put(new Chunk.Failed(e));
      } catch (InterruptedException ignored) {
        // the writing side stopped
      }
    }
  }

  private Chunk.Batch checked(ImportJobTable.ClaimedPart part, List<InputLines.Line> raw, long nextLine) {
    long t0 = System.nanoTime();
    List<LineCheck.Checked> checked = raw.parallelStream()
        .map(l -> check.check(l.number(), l.bytes(), part.type())).toList();
    long parseNanos = System.nanoTime() - t0;
    List<ImportedVersion> batch = new ArrayList<>(checked.size());
    List<ImportJobTable.LineError> refused = new ArrayList<>();
    long indexNanos = 0;
    for (LineCheck.Checked c : checked) {
      switch (c) {
        case LineCheck.Checked.Accepted a -> {
          batch.add(a.version());
          indexNanos += a.indexNanos();
        }
        case LineCheck.Checked.Refused r -> refused.add(new ImportJobTable.LineError(r.line(),
            VersionImport.outcome(part.inputUrl(), r.line(), r.reason())));
      }
    }
    return new Chunk.Batch(batch, refused, nextLine, parseNanos, indexNanos);
  }
}

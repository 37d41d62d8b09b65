package dev.sluice.export;

import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportScan;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one claimed part: opens its scan session, removes what earlier attempts wrote, hands
 * the part to the exporter of its kind ({@link PartKinds}) under a {@link LeaseKeeper}, and
 * passes the result to {@link PartOutcomes}. A part that loses its lease (cancelled, or taken
 * over after a stall) stops and removes what it wrote.
 */
public final class PartWorker {
  private static final Logger log = LoggerFactory.getLogger(PartWorker.class);

  private final ExportScan scan;
  private final LeaseKeeper leases;
  private final PartFiles files;
  private final PartKinds kinds;
  private final PartOutcomes outcomes;

  public PartWorker(ExportScan scan, LeaseKeeper leases, PartFiles files, PartKinds kinds,
      PartOutcomes outcomes) {
    this.scan = scan;
    this.leases = leases;
    this.files = files;
    this.kinds = kinds;
    this.outcomes = outcomes;
  }

  /** @param job the part's job as read with the claim (running then) */
  void run(ExportPartRow part, ExportJobRow job, AtomicBoolean stopping) {
    long started = System.nanoTime();
    LeaseKeeper.Lease lease = null;
    try (ExportScan.Session session = scan.open()) {
      long opened = System.nanoTime();
      if (part.attempt() > 1) {
        // a first attempt has no earlier attempt's files to remove: one statement less per part
        files.discardEarlierAttempts(job, part);
      }
      long discarded = System.nanoTime();
      Written written;
      lease = leases.keep(part, session, stopping);
      try {
        written = export(job, part, session);
      } finally {
        lease.close();
      }
      long exported = System.nanoTime();
      // on the disk before the finish records them (counted in the log's finish)
      if (!lease.lost()) {
        files.persist(job, written);
      }
      if (lease.lost() || !outcomes.finish(job, part, written)) {
        files.discard(job, part);
        return;
      }
      long finished = System.nanoTime();
      // the steps' shares, for the fixed cost of small exports (bench/README, target 2)
      log.debug("Export {} part {} ({} {}..{}): {} resources, {} bytes in {} ms (session {} us,"
          + " earlier attempts {} us, export {} us, finish {} us)", job.id(), part.partNo(),
          part.sharedTypes() != null ? part.sharedTypes() : part.resType() != null ? part.resType() : part.kind(),
          part.pkFrom(), part.pkTo(), written.resources(),
          written.bytes(), (finished - started) / 1_000_000, (opened - started) / 1000,
          (discarded - opened) / 1000, (exported - discarded) / 1000, (finished - exported) / 1000);
    } catch (Exception e) {
      boolean lost = lease != null && lease.lost();
      files.discard(job, part);
      if (lost || stopping.get()) {
        // cancelled, taken over, or shutting down: the scan was stopped on purpose
        if (stopping.get() && !lost) {
          outcomes.release(part);
        }
        return;
      }
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      outcomes.failed(job, part, e);
    }
  }

  private Written export(ExportJobRow job, ExportPartRow part, ExportScan.Session session) throws Exception {
    ExportRequest request = ExportRequest.fromJson(job.requestJson());
    return switch (part.kind()) {
      case RESOURCES -> kinds.resources.export(job, request, part, session);
      case HISTORY -> kinds.resources.history(job, request, part, session);
      case SOFT_DELETED -> kinds.resources.softDeleted(job, request, part, session);
      case PROVENANCE -> kinds.resources.provenance(job, request, part, session);
      case DELETED -> kinds.deletions.export(job, request, part, session);
      case NOTES -> kinds.notes.export(job, request, part);
      case PATIENT_BLOCKS -> kinds.blocks.export(job, request, part, session);
    };
  }
}

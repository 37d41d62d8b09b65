package dev.sluice.imports;

import dev.sluice.export.Wakeups;
import dev.sluice.store.ImportJobTable;
import dev.sluice.store.InitialLoadStage;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's share of the import work: {@code workers} loops that claim parts and import
 * them. Every process sharing the database runs the same loops; a part whose process died is
 * claimed again once its lease lapses and goes on from its checkpoint.
 */
public final class ImportWorkers implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ImportWorkers.class);

  /** A part claimed more often than this fails its job. */
  private static final int MAX_ATTEMPTS = 5;
  /** Expired jobs removed per sweep. */
  private static final int SWEEP_BATCH = 100;

  private final ImportSettings settings;
  private final ImportJobTable jobs;
  private final PartImport importer;
  private final InitialLoadStage stage;
  private final ExecutorService pool;
  private final String owner;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final AtomicLong nextSweep = new AtomicLong(System.nanoTime());
  private final Wakeups wakeups = new Wakeups();

  /** @param pool runs the worker loops (created and shut down by the caller) */
  public ImportWorkers(ImportSettings settings, ImportJobTable jobs, ImportSource source, dev.sluice.fhir.FhirModel fhir,
      dev.sluice.store.SearchIndexWriter index, dev.sluice.store.VersionImport writer, InitialLoadStage stage,
      ExecutorService pool, String owner) {
    this.stage = stage;
    this.settings = settings;
    this.jobs = jobs;
    this.importer = new PartImport(jobs, source, new LineCheck(fhir, index), writer, settings, owner);
    this.pool = pool;
    this.owner = owner;
  }

  public ImportWorkers start() {
    for (int i = 0; i < settings.workers(); i++) {
      pool.submit(this::work);
    }
    log.info("Import workers started: {} workers, process {}", settings.workers(), owner);
    return this;
  }

  /** Wakes idle loops: a job was accepted. A wake while a loop still looks for work is kept (Wakeups). */
  public void wake() {
    wakeups.wake();
  }

  /** Removes expired jobs (as export jobs expire), once per {@code sweep} interval across this process's workers. */
  private void sweep() throws java.sql.SQLException {
    long now = System.nanoTime();
    long due = nextSweep.get();
    if (now - due < 0 || !nextSweep.compareAndSet(due, now + settings.sweep().toNanos())) {
      return;
    }
    for (java.util.UUID id : jobs.removeExpired(SWEEP_BATCH)) {
      log.info("Import {} expired: removed with its error files", id);
    }
  }

  private void work() {
    while (!stopping.get()) {
      try {
        long seen = wakeups.seen();
        Optional<ImportJobTable.ClaimedPart> part = jobs.claim(owner, settings.lease());
        if (part.isPresent() && part.get().attempt() > MAX_ATTEMPTS) {
          // the same batch failed every time (the log says why): the job stops instead of looping
          jobs.fail(part.get().jobId(), "Input " + part.get().inputUrl() + " failed " + MAX_ATTEMPTS
              + " times at line " + part.get().nextLine() + " or after; see the server log", settings.retention());
          log.error("Import {} failed: part {} failed {} times", part.get().jobId(), part.get().partNo(), MAX_ATTEMPTS);
        } else if (part.isPresent()) {
          importer.run(part.get(), stopping);
        } else if (!merge() && jobs.dropLeftoverStage().isEmpty()) {
          sweep();
          wakeups.idle(settings.poll(), seen);
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        // the part's lease lapses and it is claimed again from its checkpoint
        log.warn("Import worker: {}", e.toString(), e);
        try {
          Thread.sleep(settings.poll().toMillis());
        } catch (InterruptedException ie) {
          return;
        }
      } catch (Error e) {
        log.error("Import worker stopped by {}", e.toString(), e);
        throw e;
      }
    }
  }

  /** Merges the staging tables of an InitialLoad whose inputs are all staged; false when none waits. */
  private boolean merge() throws java.sql.SQLException {
    Optional<ImportJobTable.ClaimedMerge> merge = jobs.claimMerge(owner, settings.lease());
    if (merge.isEmpty()) {
      return false;
    }
    UUID job = merge.get().jobId();
    if (merge.get().attempt() > MAX_ATTEMPTS) {
      jobs.fail(job, "Merging the staged resources failed " + MAX_ATTEMPTS + " times; see the server log",
          settings.retention());
      log.error("Import {} failed: its merge failed {} times", job, MAX_ATTEMPTS);
      return true;
    }
    log.info("Import {}: every input staged; merging (attempt {})", job, merge.get().attempt());
    switch (stage.merge(job, merge.get().tables(), settings.retention())) {
      case InitialLoadStage.Outcome.Merged m -> log.info("Import {} completed", job);
      case InitialLoadStage.Outcome.Conflict c -> log.warn("Import {} failed: {} was written meanwhile", job,
          c.reference());
      case InitialLoadStage.Outcome.Gone g -> log.info("Import {}: no longer waiting for its merge", job);
    }
    return true;
  }

  @Override
  public void close() {
    stopping.set(true);
    wake();
  }
}

package dev.sluice.export;

import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportPartTable;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This process's share of the export work: {@code workers} loops that claim and export parts,
 * and one coordinator loop that plans queued jobs (within the running limit), completes jobs
 * whose last part was finished by a process that then died, and removes expired and
 * cancelled jobs. Every process sharing the database runs the same loops.
 */
public final class ExportWorkers implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ExportWorkers.class);
  /** Jobs removed per coordinator round. */
  private static final int SWEEP_BATCH = 20;

  private final ExportSettings settings;
  private final ExportJobTable jobs;
  private final ExportPartTable parts;
  private final OutputStore store;
  private final JobPlanner planner;
  private final PartWorker worker;
  private final ExecutorService pool;
  private final String owner;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();

  /**
   * @param pool runs the worker and coordinator loops (created and shut down by the caller)
   */
  public ExportWorkers(ExportSettings settings, ExportJobTable jobs, ExportPartTable parts, OutputStore store,
      JobPlanner planner, PartWorker worker, ExecutorService pool, String owner) {
    this.settings = settings;
    this.jobs = jobs;
    this.parts = parts;
    this.store = store;
    this.planner = planner;
    this.worker = worker;
    this.pool = pool;
    this.owner = owner;
  }

  public ExportWorkers start() {
    pool.submit(this::coordinate);
    for (int i = 0; i < settings.workers(); i++) {
      pool.submit(this::work);
    }
    log.info("Export workers started: {} workers, process {}", settings.workers(), owner);
    return this;
  }

  /** Wakes idle loops: a job was queued or planned. */
  public void wake() {
    lock.lock();
    try {
      work.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private void idle(Duration d) throws InterruptedException {
    lock.lock();
    try {
      work.await(d.toMillis(), TimeUnit.MILLISECONDS);
    } finally {
      lock.unlock();
    }
  }

  private void work() {
    while (!stopping.get()) {
      try {
        Optional<ExportPartRow> part = parts.claim(owner, settings.lease());
        if (part.isPresent()) {
          worker.run(part.get(), stopping);
        } else {
          idle(settings.poll());
        }
      } catch (InterruptedException e) {
        if (!stopping.get()) {
          log.warn("Export worker interrupted while not shutting down; it stops", e);
        }
        return;
      } catch (Exception e) {
        log.warn("Export worker: claiming work failed: {}", e.toString());
        pause();
      } catch (Error e) {
        // the loop ends here: say so, or the process silently exports with fewer workers
        log.error("Export worker stopped by {}", e.toString(), e);
        throw e;
      }
    }
  }

  private void coordinate() {
    while (!stopping.get()) {
      try {
        Optional<ExportJobRow> queued = jobs.claimQueued(owner, settings.lease(), settings.maxRunningJobs());
        if (queued.isPresent()) {
          if (planner.plan(queued.get())) {
            wake();
          }
          continue;
        }
        for (UUID id : jobs.runningWithoutOpenParts()) {
          if (jobs.completeIfDone(id, settings.retention())) {
            log.info("Export {} completed", id);
          }
        }
        for (ExportJobRow job : jobs.expired(settings.lease(), SWEEP_BATCH)) {
          store.deleteJob(job.container(), job.id());
          jobs.delete(job.id());
          log.info("Export {} ({}) removed with its files", job.id(), job.status());
        }
        idle(settings.poll());
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        log.warn("Export coordinator: {}", e.toString(), e);
        pause();
      }
    }
  }

  private void pause() {
    try {
      Thread.sleep(settings.poll().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Stops the loops; parts in progress stop at their next lease tick and are given back, so
   * a restart (or another process) takes them at once.
   */
  @Override
  public void close() {
    stopping.set(true);
    wake();
  }
}

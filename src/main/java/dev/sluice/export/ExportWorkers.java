package dev.sluice.export;

import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartTable;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
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
  private final JobEnds ends;
  private final ExportMetrics metrics;
  private final ExecutorService pool;
  private final String owner;
  private final AtomicBoolean stopping = new AtomicBoolean();
  private final Wakeups wakeups = new Wakeups();

  /**
   * @param pool runs the worker and coordinator loops (created and shut down by the caller)
   */
  public ExportWorkers(ExportSettings settings, ExportJobTable jobs, ExportPartTable parts, OutputStore store,
      JobPlanner planner, PartWorker worker, JobEnds ends, ExportMetrics metrics, ExecutorService pool, String owner) {
    this.ends = ends;
    this.metrics = metrics;
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
    wakeups.wake();
  }

  private void work() {
    while (!stopping.get()) {
      try {
        long seen = wakeups.seen();
        Optional<ExportPartTable.Claimed> claimed = parts.claim(owner, settings.lease());
        if (claimed.isPresent()) {
          worker.run(claimed.get().part(), claimed.get().job(), stopping);
        } else {
          wakeups.idle(settings.poll(), seen);
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
        long seen = wakeups.seen();
        long claiming = System.nanoTime();
        Optional<ExportJobRow> queued = jobs.claimQueued(owner, settings.lease(), settings.maxRunningJobs());
        if (queued.isPresent()) {
          log.debug("Export {} claimed for planning in {} us, {} ms after its kick-off", queued.get().id(),
              (System.nanoTime() - claiming) / 1000, Duration.between(queued.get().createdAt(),
                  Instant.now()).toMillis());
          plan(queued.get());
          continue;
        }
        for (UUID id : jobs.runningWithoutOpenParts()) {
          if (jobs.completeIfDone(id, settings.retention())) {
            ends.completed(id);
          }
        }
        Map<String, Long> byState = new TreeMap<>();
        jobs.countByState().forEach((state, n) -> byState.put(state.sqlName(), n));
        metrics.jobs(byState);
        for (ExportJobRow job : jobs.expired(settings.lease(), SWEEP_BATCH)) {
          store.deleteJob(job.container(), job.id());
          jobs.delete(job.id());
          log.info("Export {} ({}) removed with its files", job.id(), job.status());
        }
        wakeups.idle(settings.poll(), seen);
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        log.warn("Export coordinator: {}", e.toString(), e);
        pause();
      }
    }
  }

  /**
   * Plans a claimed job. A store that cannot be reached is waited out with backoff (up to
   * {@code storeRetry}); any other failure is tried {@code maxAttempts} times. Then the job
   * fails with an OperationOutcome saying why, instead of staying queued.
   */
  private void plan(ExportJobRow job) throws InterruptedException {
    try {
      if (planner.plan(job)) {
        wake();
      }
    } catch (InterruptedException e) {
      throw e;
    } catch (Exception e) {
      StoreUnreachable unreachable = StoreUnreachable.in(e);
      int attempts = job.planAttempts() + 1;
      StoreRetry retry = settings.storeRetry();
      boolean last = unreachable != null ? retry.exhausted(attempts) : attempts >= settings.maxAttempts();
      if (last) {
        ends.fail(job.id(), 500, unreachable != null
            ? Issue.error(Issue.Code.NO_STORE, "The export store was unreachable: creating the container "
                + job.container() + " was tried " + attempts + " times over " + retry.patience().toSeconds()
                + " s; the last time " + unreachable.getMessage()).withMessage(MessageCode.EXPORT_STORE_UNREACHABLE)
            : Issue.error(Issue.Code.EXCEPTION, "Planning the export failed " + attempts + " times; the last error was: "
                + e.getMessage()).withMessage(MessageCode.EXPORT_PLANNING_FAILED));
        log.error("Export {}: planning failed {} times", job.id(), attempts, e);
        return;
      }
      Duration wait = unreachable != null ? retry.backoff(attempts) : settings.poll();
      if (unreachable != null) {
        log.warn("Export {}: the export store was unreachable at planning ({} of {} attempts); retried in {} ms: {}",
            job.id(), attempts, retry.attempts(), wait.toMillis(), unreachable.getCause());
      } else {
        log.warn("Export {}: planning attempt {} of {} failed; it will be retried", job.id(), attempts,
            settings.maxAttempts(), e);
      }
      try {
        jobs.retryPlanning(job.id(), owner, wait);
      } catch (SQLException se) {
        // the planning lease lapses on its own and the job is planned again
        log.warn("Export {}: could not give the job back: {}", job.id(), se.toString());
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

package dev.sluice.export;

import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ExportScan;
import java.sql.SQLException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the lease of a part while it is exported: renews it every {@code renewEvery}, and
 * stops the part's scan when the lease is lost (the job was cancelled, or another process took
 * the part over after a stall) or when this process shuts down.
 */
public final class LeaseKeeper {
  private static final Logger log = LoggerFactory.getLogger(LeaseKeeper.class);

  private final ExportPartTable parts;
  private final ExportSettings settings;
  private final ExecutorService keepers;
  private final String owner;

  /** @param keepers runs one renewal loop per part in progress (created and shut down by the caller) */
  public LeaseKeeper(ExportPartTable parts, ExportSettings settings, ExecutorService keepers, String owner) {
    this.parts = parts;
    this.settings = settings;
    this.keepers = keepers;
    this.owner = owner;
  }

  /** Starts renewing the part's lease until the returned lease is closed. */
  Lease keep(ExportPartRow part, ExportScan.Session session, AtomicBoolean stopping) {
    Lease lease = new Lease();
    lease.task = keepers.submit(() -> renew(part, session, stopping, lease));
    return lease;
  }

  /** One part's lease, held until closed. */
  static final class Lease implements AutoCloseable {
    private final ReentrantLock renewing = new ReentrantLock();
    private final AtomicBoolean ended = new AtomicBoolean();
    private final AtomicBoolean lost = new AtomicBoolean();
    private Future<?> task;

    /** Whether the part was cancelled or taken over while it ran: what it wrote must go. */
    boolean lost() {
      return lost.get();
    }

    /**
     * Stops renewing. The loop is interrupted only while it sleeps, never during a renewal:
     * an interrupt in the middle of JDBC I/O closes the pooled connection's socket.
     */
    @Override
    public void close() {
      renewing.lock();
      try {
        ended.set(true);
        task.cancel(true);
      } finally {
        renewing.unlock();
      }
    }
  }

  private void renew(ExportPartRow part, ExportScan.Session session, AtomicBoolean stopping, Lease lease) {
    while (true) {
      try {
        Thread.sleep(settings.renewEvery().toMillis());
      } catch (InterruptedException e) {
        return; // the part ended
      }
      lease.renewing.lock();
      try {
        if (lease.ended.get()) {
          return;
        }
        if (stopping.get()) {
          session.cancel();
          return;
        }
        if (!parts.renew(part, owner, settings.lease())) {
          log.info("Export {} part {}: cancelled or taken over; stopping", part.jobId(), part.partNo());
          lease.lost.set(true);
          session.cancel();
          return;
        }
      } catch (SQLException e) {
        // retried at the next tick; the lease outlives several ticks
        log.warn("Export {} part {}: lease renewal failed: {}", part.jobId(), part.partNo(), e.toString());
      } finally {
        lease.renewing.unlock();
      }
    }
  }
}

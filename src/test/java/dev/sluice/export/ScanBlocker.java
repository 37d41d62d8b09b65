package dev.sluice.export;

import java.sql.Connection;
import java.sql.ResultSet;
import javax.sql.DataSource;

/**
 * Holds an export's parts in the middle of their scans: a lock on resource_version that
 * their COPY waits for. The lock is taken after the kick-off (whose planning a transaction
 * holds meanwhile), because taking it gives the locking transaction an xid, which a later
 * kick-off would wait for before planning.
 */
final class ScanBlocker {
  private ScanBlocker() {}

  /**
   * Kicks off, then locks resource_version on {@code lock} (autocommit off); returns the status
   * URL. {@code db} is the same database, for a connection of its own.
   */
  static String startBlocked(ExportClient client, DataSource db, Connection lock, String path) throws Exception {
    return startBlocked(client, db, lock, path, "resource_version");
  }

  /** The same, locking {@code table} instead: export_file holds the parts before their scans, not the planning. */
  static String startBlocked(ExportClient client, DataSource db, Connection lock, String path, String table)
      throws Exception {
    try (Connection planning = db.getConnection()) {
      planning.setAutoCommit(false);
      planning.createStatement().execute("select pg_current_xact_id()");
      String status = client.start(path);
      lock.setAutoCommit(false);
      lock.createStatement().execute("lock table " + table + " in access exclusive mode");
      planning.rollback();
      return status;
    }
  }

  static long activeScans(Connection c) throws Exception {
    try (ResultSet rs = c.createStatement().executeQuery(
        "select count(*) from pg_stat_activity where query like 'copy (select v.content%' and state = 'active'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Waits until {@code n} scans wait on the lock. */
  static void awaitScans(Connection watch, int n) throws Exception {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (activeScans(watch) < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("fewer than " + n + " export scans started");
      }
      ExportClient.sleep(50);
    }
  }

  /** Waits until {@code n} statements whose text is {@code like} wait on a lock. */
  static void awaitLockWaits(Connection watch, int n, String like) throws Exception {
    long deadline = System.nanoTime() + 15_000_000_000L;
    while (true) {
      try (java.sql.PreparedStatement ps = watch.prepareStatement("select count(*) from pg_stat_activity"
          + " where wait_event_type = 'Lock' and state = 'active' and query like ?")) {
        ps.setString(1, like);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          if (rs.getLong(1) >= n) {
            return;
          }
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("fewer than " + n + " statements wait on the lock");
      }
      ExportClient.sleep(50);
    }
  }
}

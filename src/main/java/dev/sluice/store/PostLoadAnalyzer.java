package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Analyzes the resource and search index tables once a bulk load into them is over, so that the
 * planner knows the loaded rows within seconds instead of at autovacuum's next round, a minute
 * or more later (issue #3). Every {@code period} it reads {@code pg_stat_user_tables}; a table
 * that changed by more than 1,000 rows + 2% since its last ANALYZE (the thresholds V5 gives
 * autovacuum) and did not change since the previous look is analyzed. While a load goes on its
 * tables keep changing, so the load pays nothing: making autovacuum itself look every 10 s
 * instead cost about a fifth more server CPU during a load (bench/README.md). Every process
 * sharing the database may do this; two ANALYZEs of one table only repeat the work.
 */
public final class PostLoadAnalyzer implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PostLoadAnalyzer.class);
  private static final List<String> TABLES = List.of("resource", "resource_version", "compartment", "idx_token",
      "idx_string", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri");
  private static final long MIN_CHANGES = 1_000;
  private static final double MIN_FRACTION = 0.02;

  private static final String CHANGES =
      """
      select relname, n_mod_since_analyze, n_live_tup from pg_stat_user_tables
       where schemaname = current_schema() and relname = any(?)
      """;

  private final DataSource dataSource;
  private final Duration period;
  /** Rows changed since the last ANALYZE at the previous look, per table. */
  private final Map<String, Long> previous = new HashMap<>();

  public PostLoadAnalyzer(DataSource dataSource, Duration period) {
    this.dataSource = dataSource;
    this.period = period;
  }

  /** Looks every period until interrupted. */
  @Override
  public void run() {
    while (!Thread.currentThread().isInterrupted()) {
      try {
        look();
      } catch (SQLException | RuntimeException e) {
        // a database that is down is waited for at the same pace, not hammered
        log.warn("Looking for tables to analyze failed; trying again in {} s: {}", period.toSeconds(), e.getMessage());
      }
      try {
        Thread.sleep(period.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** One look: analyzes the tables that changed enough and have stopped changing. */
  void look() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      Map<String, long[]> now = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement(CHANGES)) {
        ps.setArray(1, c.createArrayOf("text", TABLES.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            now.put(rs.getString(1), new long[] {rs.getLong(2), rs.getLong(3)});
          }
        }
      }
      for (var e : now.entrySet()) {
        String table = e.getKey();
        long changed = e.getValue()[0];
        Long before = previous.put(table, changed);
        if (changed > MIN_CHANGES + MIN_FRACTION * e.getValue()[1] && before != null && before == changed) {
          long start = System.nanoTime();
          try (Statement s = c.createStatement()) {
            s.execute("analyze " + table);
          }
          // the statistics system may show the old count for a moment: not taken as settled again
          previous.remove(table);
          log.info("Analyzed {} after a load: {} rows had changed ({} ms)", table, changed,
              (System.nanoTime() - start) / 1_000_000);
        }
      }
    }
  }
}

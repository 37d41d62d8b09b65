package dev.sluice.export;

import dev.sluice.store.ExportScan;
import dev.sluice.store.TypeSizes;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * The type sizes a planner cuts shared parts by, sampled again once they are older than
 * {@link #MAX_AGE}: the mix of a server's types changes slowly, and a sample costs a few
 * milliseconds, which a Group's export should not pay each time. Planners of one process may
 * race to sample; each result is as good as the other.
 */
final class RecentTypeSizes {
  static final Duration MAX_AGE = Duration.ofMinutes(10);

  private record Sample(TypeSizes sizes, Instant taken) {}

  private final ExportScan scan;
  private final Clock clock;
  private volatile Sample last;

  RecentTypeSizes(ExportScan scan, Clock clock) {
    this.scan = scan;
    this.clock = clock;
  }

  TypeSizes get() throws SQLException {
    Sample s = last;
    Instant now = clock.instant();
    if (s == null || s.taken().plus(MAX_AGE).isBefore(now)) {
      s = new Sample(scan.typeSizes(), now);
      last = s;
    }
    return s.sizes();
  }
}

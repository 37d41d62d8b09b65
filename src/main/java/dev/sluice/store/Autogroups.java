package dev.sluice.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The kernel's autogroups, as they bear on niceness between this process and another. With
 * {@code kernel.sched_autogroup_enabled=1} and no cpu cgroup, each session is a scheduling group,
 * and the scheduler shares the cores between groups first and by niceness only inside each. pg_ctl
 * starts the embedded postmaster in a session of its own, so there the export's lowered threads
 * and backends compete with the API's threads and backends as equals across the two groups, and a
 * search waits behind them (bench/README.md, "Search latency during exports", the scheduler).
 *
 * @param proc where procfs is mounted
 */
record Autogroups(Path proc) {
  static Autogroups ofThisMachine() {
    return new Autogroups(Path.of("/proc"));
  }

  /**
   * @return why niceness does not order this process's threads against process {@code pid}'s, or
   *     empty when it does (autogroups off or absent, one group for both, or nothing to read)
   */
  Optional<String> apart(long pid) {
    Optional<String> enabled = read(proc.resolve("sys/kernel/sched_autogroup_enabled"));
    Optional<String> self = read(proc.resolve("self/autogroup")).map(Autogroups::group);
    Optional<String> other = read(proc.resolve(pid + "/autogroup")).map(Autogroups::group);
    if (!enabled.equals(Optional.of("1")) || self.isEmpty() || other.isEmpty() || self.equals(other)) {
      return Optional.empty();
    }
    return Optional.of("the kernel's autogroups are on and process " + pid + " is in " + other.get()
        + ", this server in " + self.get());
  }

  /** "/autogroup-37558 nice 0" is group "/autogroup-37558". */
  private static String group(String line) {
    return line.split("\\s+", 2)[0];
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file).trim());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}

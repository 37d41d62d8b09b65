package dev.sluice.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The kernel's autogroups, as they bear on niceness between this process and another. With
 * {@code kernel.sched_autogroup_enabled=1} and this process in no cpu cgroup (the root task
 * group, the only one the kernel gives autogroups), each session is a scheduling group, and the
 * scheduler shares the cores between groups first and by niceness only inside each. Every child
 * of a postmaster calls {@code setsid}, so each PostgreSQL backend is a group of its own: an
 * export backend's group is given the export's niceness ({@link #lower}), and this server's own
 * export threads, lowered inside this server's group, still weigh as much as the API's backends
 * (bench/README.md, "Search latency during exports", the autogroups).
 *
 * @param proc where procfs is mounted
 * @param cgroups where the cgroup v2 hierarchy is mounted
 */
record Autogroups(Path proc, Path cgroups) {
  static Autogroups ofThisMachine() {
    return new Autogroups(Path.of("/proc"), Path.of("/sys/fs/cgroup"));
  }

  /**
   * @return why niceness does not order this process's threads against process {@code pid}'s, or
   *     empty when it does (autogroups off or absent, this process in a cpu cgroup, one group for
   *     both, or nothing to read)
   */
  Optional<String> apart(long pid) {
    Optional<String> enabled = read(proc.resolve("sys/kernel/sched_autogroup_enabled"));
    Optional<String> self = group(proc.resolve("self/autogroup"));
    Optional<String> other = group(proc.resolve(pid + "/autogroup"));
    if (!enabled.equals(Optional.of("1")) || self.isEmpty() || other.isEmpty() || self.equals(other)
        || inCpuCgroup()) {
      return Optional.empty();
    }
    return Optional.of("the kernel's autogroups are on and process " + pid + " is in " + other.get()
        + ", this server in " + self.get());
  }

  /**
   * Whether this process is in a cgroup of the cpu controller, where the kernel uses no autogroups:
   * under cgroup v1 a cpu hierarchy's path other than the root; under v2 a cgroup with a
   * {@code cpu.weight} file, which the root (and a cgroup without the controller) has not, also
   * when a container's namespace shows its cgroup as "/".
   */
  private boolean inCpuCgroup() {
    String unified = null;
    for (String line : read(proc.resolve("self/cgroup")).map(String::lines).orElse(Stream.empty()).toList()) {
      String[] fields = line.split(":", 3);
      if (fields.length < 3) {
        continue;
      }
      if (Arrays.asList(fields[1].split(",")).contains("cpu")) {
        return !fields[2].equals("/");
      }
      if (fields[0].equals("0") && fields[1].isEmpty()) {
        unified = fields[2];
      }
    }
    return unified != null && Files.exists(cgroups.resolve(unified.replaceFirst("^/", "")).resolve("cpu.weight"));
  }

  /**
   * Gives process {@code pid}'s autogroup {@code niceness}, unless that group is this process's (which
   * would lower the API's threads too). Every child of a postmaster calls {@code setsid}, so a
   * PostgreSQL backend is a session, and an autogroup, of its own: its own niceness orders it only
   * inside that group of one, and the group's is what the scheduler weighs against this server's
   * threads and the API's backends. Written also while autogroups are off, so that it holds if they
   * are switched on later.
   *
   * @return empty when done, or when this kernel has no autogroups (nothing to lower); else why not
   */
  Optional<String> lower(long pid, Niceness niceness) {
    Path file = proc.resolve(pid + "/autogroup");
    Optional<String> other = group(file);
    if (other.isEmpty()) {
      return Optional.empty();
    }
    if (other.equals(group(proc.resolve("self/autogroup")))) {
      return Optional.of("process " + pid + " is in this server's autogroup " + other.get());
    }
    try {
      Files.writeString(file, Integer.toString(niceness.value()));
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of("writing " + file + " failed: " + e);
    }
  }

  /**
   * The autogroup a process's file names ("/autogroup-37558 nice 0" is "/autogroup-37558"), or
   * "/" when the file is empty: the kernel's default autogroup, the root task group itself, where
   * a process is that no session made since boot ever took out (pid 1, and a server started from
   * it without {@code setsid}, as in a container). Empty without the file (no autogroups, or the
   * process is gone).
   */
  private static Optional<String> group(Path autogroupFile) {
    return read(autogroupFile).map(line -> line.isEmpty() ? "/" : line.split("\\s+", 2)[0]);
  }

  private static Optional<String> read(Path file) {
    try {
      return Optional.of(Files.readString(file).trim());
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}

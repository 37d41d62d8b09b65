package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Over copies of the kernel's files as this machine's show them (cgroup v1, cpu at the root). */
class AutogroupsTest {
  @TempDir
  Path root;

  private Autogroups autogroups() {
    return new Autogroups(root.resolve("proc"), root.resolve("cgroup"));
  }

  private void write(String file, String content) throws IOException {
    Path path = root.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, content + "\n");
  }

  /** A server started from a shell, its postmaster in the session pg_ctl made. */
  private void twoSessions(String cgroup) throws IOException {
    write("proc/sys/kernel/sched_autogroup_enabled", "1");
    write("proc/self/autogroup", "/autogroup-37558 nice 0");
    write("proc/4242/autogroup", "/autogroup-42786 nice 0");
    write("proc/self/cgroup", cgroup);
  }

  @Test
  void aPostmasterInAnotherSessionIsApartWhenAutogroupsAreOn() throws IOException {
    twoSessions("4:memory:/process_api/5f22\n2:cpuacct:/\n1:cpu:/\n0::/");

    assertThat(autogroups().apart(4242))
        .hasValue("the kernel's autogroups are on and process 4242 is in /autogroup-42786, this server in /autogroup-37558");
  }

  @Test
  void inACpuCgroupTheKernelUsesNoAutogroups() throws IOException {
    twoSessions("3:cpu,cpuacct:/system.slice/sluice.service\n0::/");
    assertThat(autogroups().apart(4242)).as("cgroup v1, a cpu cgroup of its own").isEmpty();

    twoSessions("0::/system.slice/sluice.service");
    assertThat(autogroups().apart(4242)).as("cgroup v2, the unit without the cpu controller").isPresent();
    write("cgroup/system.slice/sluice.service/cpu.weight", "100");
    assertThat(autogroups().apart(4242)).as("cgroup v2, the unit with CPUWeight=").isEmpty();

    twoSessions("0::/");
    assertThat(autogroups().apart(4242)).as("cgroup v2, the root").isPresent();
    write("cgroup/cpu.weight", "100");
    assertThat(autogroups().apart(4242)).as("cgroup v2, a container's namespace").isEmpty();
  }

  @Test
  void oneGroupIsNotApartWhateverItsNice() throws IOException {
    twoSessions("1:cpu:/");
    write("proc/4242/autogroup", "/autogroup-37558 nice 5");

    assertThat(autogroups().apart(4242)).isEmpty();
  }

  @Test
  void autogroupsOffOrAbsentAreNeverApart() throws IOException {
    twoSessions("1:cpu:/");
    Files.delete(root.resolve("proc/sys/kernel/sched_autogroup_enabled"));
    assertThat(autogroups().apart(4242)).as("a kernel without autogroups").isEmpty();

    write("proc/sys/kernel/sched_autogroup_enabled", "0");
    assertThat(autogroups().apart(4242)).as("autogroups off").isEmpty();
  }

  @Test
  void aProcessThatIsGoneIsNotApart() throws IOException {
    twoSessions("1:cpu:/");
    Files.delete(root.resolve("proc/4242/autogroup"));

    assertThat(autogroups().apart(4242)).isEmpty();
  }

  @Test
  void aBackendsOwnAutogroupIsLoweredToTheNiceness() throws IOException {
    twoSessions("1:cpu:/");

    assertThat(autogroups().lower(4242, new Niceness(10))).isEmpty();
    assertThat(root.resolve("proc/4242/autogroup")).hasContent("10");
    assertThat(root.resolve("proc/self/autogroup")).hasContent("/autogroup-37558 nice 0");
  }

  @Test
  void thisServersAutogroupIsNeverLowered() throws IOException {
    twoSessions("1:cpu:/");
    write("proc/4242/autogroup", "/autogroup-37558 nice 0");

    assertThat(autogroups().lower(4242, new Niceness(10)))
        .hasValue("process 4242 is in this server's autogroup /autogroup-37558");
    assertThat(root.resolve("proc/4242/autogroup")).hasContent("/autogroup-37558 nice 0");
  }

  @Test
  void withoutAutogroupsThereIsNothingToLower() throws IOException {
    twoSessions("1:cpu:/");
    Files.delete(root.resolve("proc/4242/autogroup"));

    assertThat(autogroups().lower(4242, new Niceness(10))).isEmpty();
    assertThat(root.resolve("proc/4242/autogroup")).doesNotExist();
  }

  /**
   * A server whose session no setsid made (started from pid 1, as in a container) is in the kernel's
   * default autogroup, the root task group, whose file is empty; the backends are apart from it.
   */
  @Test
  void aServerInTheDefaultAutogroupIsApartFromTheBackends() throws IOException {
    twoSessions("1:cpu:/");
    write("proc/self/autogroup", "");

    assertThat(autogroups().apart(4242))
        .hasValue("the kernel's autogroups are on and process 4242 is in /autogroup-42786, this server in /");
    assertThat(autogroups().lower(4242, new Niceness(10))).isEmpty();
    assertThat(root.resolve("proc/4242/autogroup")).hasContent("10");

    write("proc/4242/autogroup", "");
    assertThat(autogroups().lower(4242, new Niceness(10))).hasValue("process 4242 is in this server's autogroup /");
  }
}

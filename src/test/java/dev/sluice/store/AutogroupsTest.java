package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AutogroupsTest {
  @TempDir
  Path proc;

  private void write(String file, String content) throws IOException {
    Path path = proc.resolve(file);
    Files.createDirectories(path.getParent());
    Files.writeString(path, content + "\n");
  }

  @Test
  void aPostmasterInAnotherSessionIsApartWhenAutogroupsAreOn() throws IOException {
    write("sys/kernel/sched_autogroup_enabled", "1");
    write("self/autogroup", "/autogroup-37558 nice 0");
    write("4242/autogroup", "/autogroup-42786 nice 0");

    assertThat(new Autogroups(proc).apart(4242))
        .hasValue("the kernel's autogroups are on and process 4242 is in /autogroup-42786, this server in /autogroup-37558");
  }

  @Test
  void oneGroupIsNotApartWhateverItsNice() throws IOException {
    write("sys/kernel/sched_autogroup_enabled", "1");
    write("self/autogroup", "/autogroup-7 nice 0");
    write("4242/autogroup", "/autogroup-7 nice 0");

    assertThat(new Autogroups(proc).apart(4242)).isEmpty();
  }

  @Test
  void autogroupsOffOrAbsentAreNeverApart() throws IOException {
    write("self/autogroup", "/autogroup-1 nice 0");
    write("4242/autogroup", "/autogroup-2 nice 0");
    assertThat(new Autogroups(proc).apart(4242)).as("a kernel without autogroups").isEmpty();

    write("sys/kernel/sched_autogroup_enabled", "0");
    assertThat(new Autogroups(proc).apart(4242)).as("autogroups off").isEmpty();
  }

  @Test
  void aProcessThatIsGoneIsNotApart() throws IOException {
    write("sys/kernel/sched_autogroup_enabled", "1");
    write("self/autogroup", "/autogroup-1 nice 0");

    assertThat(new Autogroups(proc).apart(4242)).isEmpty();
  }
}

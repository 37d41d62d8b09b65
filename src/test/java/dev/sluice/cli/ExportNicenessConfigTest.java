package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --export-niceness}: 0 to 19 (PostgreSQL backends can only be made nicer), 10 unless set. */
class ExportNicenessConfigTest {
  private static Config with(int niceness) {
    return new Config("127.0.0.1", 8080, Path.of("data"), null, null, null, 8, null, 1 << 20,
        ExportConfig.defaults().withNiceness(niceness));
  }

  @Test
  void the_default_is_10_and_0_to_19_are_accepted() {
    assertThat(ExportConfig.defaults().niceness()).isEqualTo(10);
    assertThat(with(0).validate().export().niceness()).isZero();
    assertThat(with(19).validate().export().niceness()).isEqualTo(19);
  }

  @Test
  void a_niceness_out_of_range_is_refused_naming_the_option_and_its_variable() {
    for (int bad : new int[] {-1, 20}) {
      assertThatThrownBy(() -> with(bad).validate())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("--export-niceness (SLUICE_EXPORT_NICENESS) must be between 0 and 19, got " + bad);
    }
  }

  @Test
  void serve_with_a_bad_niceness_exits_2_before_it_starts_and_says_why() throws Exception {
    Path dir = Files.createTempDirectory("sluice-niceness");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream before = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute("serve", "--port", "0", "--data-dir", dir.toString(),
          "--export-niceness", "25");
    } finally {
      System.setErr(before);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .contains("sluice serve: --export-niceness (SLUICE_EXPORT_NICENESS) must be between 0 and 19, got 25");
    assertThat(dir.resolve("postgres")).doesNotExist();
  }

  @Test
  void the_option_sets_the_niceness() {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--export-niceness", "3");
    assertThat(serve.config().export().niceness()).isEqualTo(3);
  }
}

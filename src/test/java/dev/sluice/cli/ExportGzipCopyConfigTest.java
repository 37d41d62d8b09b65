package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.export.GzipCopyTime;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --export-gzip-copy}: when a file's gzip copy is made; on the first gzip download unless set. */
class ExportGzipCopyConfigTest {

  @Test
  void the_default_is_the_first_download_and_write_is_accepted_in_any_case() {
    assertThat(ExportConfig.defaults().gzipCopy()).isEqualTo(GzipCopyTime.DOWNLOAD);
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).setCaseInsensitiveEnumValuesAllowed(true).parseArgs();
    assertThat(serve.config().export().gzipCopy()).isEqualTo(GzipCopyTime.DOWNLOAD);
    ServeCommand writing = new ServeCommand();
    new CommandLine(writing).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--export-gzip-copy", "Write");
    assertThat(writing.config().export().gzipCopy()).isEqualTo(GzipCopyTime.WRITE);
  }

  @Test
  void the_start_up_line_of_the_configuration_names_it() {
    ServeCommand writing = new ServeCommand();
    new CommandLine(writing).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--export-gzip-copy", "write");
    assertThat(writing.config().toString()).contains("gzipCopy=write");
  }

  @Test
  void serve_with_another_value_exits_2_naming_the_option_and_its_values() throws Exception {
    Path dir = Files.createTempDirectory("sluice-gzip-copy");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream before = System.err;
    int code;
    try {
      System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
      code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute("serve", "--port", "0",
          "--data-dir", dir.toString(), "--export-gzip-copy", "always");
    } finally {
      System.setErr(before);
    }
    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("--export-gzip-copy").contains("DOWNLOAD").contains("WRITE")
        .contains("always");
    assertThat(dir.resolve("postgres")).doesNotExist();
  }
}

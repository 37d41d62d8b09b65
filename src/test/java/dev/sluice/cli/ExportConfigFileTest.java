package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code sluice export --config FILE}: the file's settings, below flags and environment variables. */
class ExportConfigFileTest {

  private static ExportCommand parsed(Map<String, String> environment, String... args) {
    CommandLine line = Main.commandLine(environment, args);
    line.parseArgs(args);
    return line.getSubcommands().get("export").getCommand();
  }

  @Test
  void the_files_settings_fill_what_the_flags_leave_out_and_flags_and_environment_win() throws Exception {
    Path file = Files.createTempFile("sluice-export", ".properties");
    Files.writeString(file, """
        server=https://ehr.example.org/fhir
        out=cohort
        type=Patient,Observation
        parallel=8
        post=true
        client-id=my-app
        """);

    ExportCommand export = parsed(Map.of("SLUICE_CLIENT_ID", "from-env"), "export", "--config", file.toString(),
        "--parallel", "2");

    assertThat(export.server).isEqualTo(URI.create("https://ehr.example.org/fhir"));
    assertThat(export.out).isEqualTo(Path.of("cohort"));
    assertThat(export.type).isEqualTo("Patient,Observation");
    assertThat(export.post).isTrue();
    assertThat(export.parallel).isEqualTo(2);
    assertThat(export.auth.clientId).isEqualTo("from-env");
    Files.delete(file);
  }

  @Test
  void a_setting_export_does_not_have_is_refused_by_name() throws Exception {
    Path file = Files.createTempFile("sluice-export", ".properties");
    Files.writeString(file, "server=https://ehr.example.org/fhir\nexport-workers=4\n");

    assertThatThrownBy(() -> Main.commandLine(Map.of(), "export", "--config", file.toString()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[export-workers]");
    Files.delete(file);
  }

  @Test
  void the_servers_sluice_config_is_not_read_by_export() throws Exception {
    Path file = Files.createTempFile("sluice-serve", ".properties");
    Files.writeString(file, "export-workers=4\n");

    ExportCommand export = parsed(Map.of("SLUICE_CONFIG", file.toString()), "export");

    assertThat(export.parallel).isEqualTo(4);
    Files.delete(file);
  }
}

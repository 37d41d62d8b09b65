package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code sluice serve --config FILE}: flags beat environment variables, which beat the file, which beats the defaults. */
class ConfigFileTest {
  @TempDir
  Path dir;

  private Config parse(Map<String, String> environment, String... args) {
    CommandLine line = Main.commandLine(environment, args);
    line.parseArgs(args);
    ServeCommand serve = line.getSubcommands().get("serve").getCommand();
    return serve.config();
  }

  private Path file(String... lines) throws IOException {
    Path f = dir.resolve("sluice.properties");
    Files.writeString(f, String.join("\n", lines) + "\n");
    return f;
  }

  @Test
  void settings_of_the_file_apply_where_no_flag_or_environment_variable_is_given() throws IOException {
    Path f = file("# comments are allowed", "port=9001", "host=0.0.0.0", "auth=smart", "export-workers=3",
        "log-format=json", "access-log=true", "export-require-async-headers=false", "data-dir=" + dir.resolve("data"));
    Config config = parse(Map.of(), "serve", "--config", f.toString());
    assertThat(config.port()).isEqualTo(9001);
    assertThat(config.host()).isEqualTo("0.0.0.0");
    assertThat(config.auth().mode()).isEqualTo(dev.sluice.auth.AuthMode.SMART);
    assertThat(config.export().workers()).isEqualTo(3);
    assertThat(config.export().requireAsyncHeaders()).isFalse();
    assertThat(config.log()).isEqualTo(new LogConfig(LogConfig.Format.JSON, true));
    assertThat(config.dataDir()).isEqualTo(dir.resolve("data"));
    assertThat(config.dbPoolSize()).as("not in the file: the default").isEqualTo(16);
  }

  @Test
  void an_environment_variable_beats_the_file_and_a_flag_beats_both() throws IOException {
    Path f = file("port=9001", "export-workers=3", "db-pool-size=4");
    Config config = parse(Map.of("SLUICE_PORT", "9002", "SLUICE_EXPORT_WORKERS", "5"),
        "serve", "--config=" + f, "--port", "9003");
    assertThat(config.port()).isEqualTo(9003);
    assertThat(config.export().workers()).isEqualTo(5);
    assertThat(config.dbPoolSize()).isEqualTo(4);
  }

  @Test
  void sluice_config_names_the_file_when_no_flag_does() throws IOException {
    Path f = file("port=9004");
    assertThat(parse(Map.of("SLUICE_CONFIG", f.toString()), "serve").port()).isEqualTo(9004);
  }

  @Test
  void a_setting_the_server_does_not_have_is_refused_by_name() throws IOException {
    Path f = file("prot=9001", "port=9001");
    assertThatThrownBy(() -> Main.commandLine(Map.of(), "serve", "--config", f.toString()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[prot]").hasMessageContaining(f.toString());
  }

  @Test
  void a_configuration_file_that_does_not_exist_is_refused() {
    Path missing = dir.resolve("nowhere.properties");
    assertThatThrownBy(() -> Main.commandLine(Map.of(), "serve", "--config", missing.toString()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining(missing.toString());
  }

  @Test
  void a_wrong_value_in_the_file_is_reported_with_the_option() throws IOException {
    Path f = file("port=eighty");
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--config", f.toString()))
        .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--port").hasMessageContaining("eighty");
  }

  /** The file's precedence below the environment relies on this naming. */
  @Test
  void every_serve_option_reads_the_environment_variable_named_after_it() {
    for (Field field : ServeCommand.class.getDeclaredFields()) {
      Option option = field.getAnnotation(Option.class);
      if (option == null) {
        continue;
      }
      String name = option.names()[0].substring(2);
      assertThat(option.defaultValue()).as(option.names()[0])
          .startsWith("${env:" + ConfigFile.environmentName(name));
    }
  }
}

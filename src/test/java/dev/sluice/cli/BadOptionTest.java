package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A mistyped option or value is said in two lines, not in the whole usage, and exits 2. */
class BadOptionTest {
  private static String[] run(String... args) {
    StringWriter err = new StringWriter();
    int code = Main.commandLine(Map.of(), args).setErr(new PrintWriter(err, true)).execute(args);
    return new String[] {Integer.toString(code), err.toString()};
  }

  @Test
  void a_bad_value_names_the_option_and_points_at_help() {
    String[] r = run("serve", "--port", "abc");

    assertThat(r[0]).isEqualTo("2");
    assertThat(r[1]).contains("sluice serve: Invalid value for option '--port': 'abc' is not an int")
        .contains("sluice serve --help").doesNotContain("Usage:");
    assertThat(r[1].lines().count()).isEqualTo(2);
  }

  @Test
  void an_unknown_option_of_a_subcommand_of_load_is_said_the_same_way() {
    String[] r = run("load", "--concurency", "3", "x.ndjson");

    assertThat(r[0]).isEqualTo("2");
    assertThat(r[1]).contains("sluice load: Unknown option: '--concurency'").contains("sluice load --help")
        .doesNotContain("Usage:");
  }
}

package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.auth.AuthMode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --auth}: none is for loopback only unless explicitly allowed; the option and its variable. */
class AuthModeConfigTest {
  private static Config on(String host, AuthConfig auth) {
    return new Config(host, 8080, Path.of("data"), null, null, null, 8, null, 1 << 20, ExportConfig.defaults()).with(auth);
  }

  @Test
  void none_on_a_loopback_address_starts() {
    for (String host : new String[] {"127.0.0.1", "localhost", "::1"}) {
      assertThat(on(host, AuthConfig.none()).validate().auth().mode()).isEqualTo(AuthMode.NONE);
    }
  }

  @Test
  void none_on_any_other_address_is_refused_with_why_and_how_to_choose() {
    assertThatThrownBy(() -> on("0.0.0.0", AuthConfig.none()).validate())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("only allowed on a loopback address")
        .hasMessageContaining("--auth smart")
        .hasMessageContaining("--auth oidc")
        .hasMessageContaining("--allow-unauthenticated");
  }

  @Test
  void allow_unauthenticated_overrides_and_is_reported_as_open() {
    AuthConfig open = new AuthConfig(AuthMode.NONE, true, AuthConfig.DEFAULT_TOKEN_LIFETIME);
    assertThat(on("0.0.0.0", open).validate().auth().openBeyondLoopback("0.0.0.0")).isTrue();
    assertThat(AuthConfig.none().openBeyondLoopback("127.0.0.1")).isFalse();
  }

  @Test
  void smart_on_any_address_starts() {
    assertThat(on("0.0.0.0", AuthConfig.smart()).validate().auth().mode()).isEqualTo(AuthMode.SMART);
  }

  @Test
  void serve_refuses_to_start_open_on_all_interfaces_and_says_why() {
    StringWriter err = new StringWriter();
    int code = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
        .setErr(new PrintWriter(err, true)).execute("serve", "--host", "0.0.0.0", "--auth", "none");
    assertThat(code).isEqualTo(2);
  }

  @Test
  void the_auth_option_reads_its_mode_case_insensitively() {
    ServeCommand serve = new ServeCommand();
    new CommandLine(serve).setCaseInsensitiveEnumValuesAllowed(true).parseArgs("--auth", "smart", "--host", "0.0.0.0");
    assertThat(serve.config().auth().mode()).isEqualTo(AuthMode.SMART);
  }
}

package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --export-storage azure}: a connection string with a key, or an account URL with Entra ID; checked at start. */
class AzureOptionsTest {
  private static final String WITH_KEY = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=a2V5;"
      + "EndpointSuffix=core.windows.net";

  private static Config parse(Map<String, String> environment, String... args) {
    CommandLine line = Main.commandLine(environment, args);
    line.parseArgs(args);
    ServeCommand serve = line.getSubcommands().get("serve").getCommand();
    return serve.config();
  }

  @Test
  void an_account_url_selects_entra_id() {
    Config config = parse(Map.of(), "serve", "--export-storage", "azure", "--azure-account-url",
        "https://acme.blob.core.windows.net");
    assertThat(config.export().azureAccountUrl()).isEqualTo("https://acme.blob.core.windows.net");
    assertThat(config.export().azureConnectionString()).isNull();
  }

  @Test
  void a_connection_string_with_an_account_key_is_accepted() {
    Config config = parse(Map.of(), "serve", "--export-storage", "azure", "--azure-connection-string", WITH_KEY);
    assertThat(config.export().azureConnectionString()).isEqualTo(WITH_KEY);
    assertThat(config.export().azureAccountUrl()).isNull();
  }

  @Test
  void a_connection_string_without_an_account_key_is_refused_since_its_urls_could_not_be_signed() {
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "azure", "--azure-connection-string",
        "BlobEndpoint=https://acme.blob.core.windows.net;SharedAccessSignature=sv=2024-11-04&sig=abc"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--azure-connection-string (SLUICE_AZURE_CONNECTION_STRING) holds no AccountKey");
  }

  @Test
  void neither_or_both_ways_in_are_refused_by_name() {
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "azure"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--azure-account-url (SLUICE_AZURE_ACCOUNT_URL), got neither");
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "azure", "--azure-connection-string", WITH_KEY,
        "--azure-account-url", "https://acme.blob.core.windows.net"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not both");
  }

  @Test
  void an_http_account_url_and_retention_past_seven_days_are_refused() {
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "azure", "--azure-account-url",
        "http://acme.blob.core.windows.net"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be an https:// URL");
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "azure", "--azure-account-url",
        "https://acme.blob.core.windows.net", "--export-retention", "864000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be at most 604800 seconds (7 days) with --azure-account-url");
  }
}

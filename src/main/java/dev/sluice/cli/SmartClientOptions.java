package dev.sluice.cli;

import dev.sluice.client.Credentials;
import dev.sluice.client.SmartTokenSource;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import picocli.CommandLine.Option;

/**
 * The SMART Backend Services options of the commands that are clients of FHIR servers
 * ({@code sluice load}, {@code sluice export}); each command gives its own {@code --scope},
 * whose default differs.
 */
final class SmartClientOptions {
  @Option(names = "--client-id", defaultValue = "${env:SLUICE_CLIENT_ID}",
      description = "SMART Backend Services: the client id the server knows this client by (env SLUICE_CLIENT_ID;"
          + " with --private-key).")
  String clientId;

  @Option(names = "--private-key", defaultValue = "${env:SLUICE_PRIVATE_KEY}",
      description = "SMART Backend Services: the client's private key, PEM (PKCS#8, RSA signs RS384, EC P-384 signs"
          + " ES384) or a private JWK (env SLUICE_PRIVATE_KEY).")
  Path privateKey;

  @Option(names = "--key-id", defaultValue = "${env:SLUICE_KEY_ID}",
      description = "The kid the client's key is registered under (env SLUICE_KEY_ID; default: a JWK's own kid, or"
          + " an RSA key's RFC 7638 thumbprint).")
  String keyId;

  boolean given() {
    return clientId != null || privateKey != null;
  }

  /**
   * None without these options, else the shared token source.
   *
   * @throws IllegalArgumentException when only one of the two is given, or the key cannot be used
   */
  Credentials credentials(URI server, String scope, HttpClient http) {
    if (!given()) {
      return Credentials.none();
    }
    if (clientId == null || privateKey == null) {
      throw new IllegalArgumentException("--client-id and --private-key come together");
    }
    return new SmartTokenSource(new SmartTokenSource.Settings(server, clientId,
        SmartTokenSource.readKey(privateKey, keyId), scope), http, Clock.systemUTC());
  }
}

package dev.sluice.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How the commands that are clients of a FHIR server ({@code sluice load}, {@code sluice export})
 * authorize to it: a bearer token, or SMART Backend Services. Each command gives its own
 * {@code --scope}, whose default differs.
 */
final class ClientAuthOptions {
  @Option(names = "--token", defaultValue = "${env:SLUICE_TOKEN}",
      description = "A bearer token to send as it is (env SLUICE_TOKEN).")
  String token;

  @Option(names = "--token-file", paramLabel = "FILE", description = "A file holding the bearer token.")
  Path tokenFile;

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

  ServerCredentials given() {
    return new ServerCredentials("--", token, tokenFile, clientId, privateKey, keyId);
  }
}

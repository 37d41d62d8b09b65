package dev.sluice.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * How {@code sluice export --into} authorizes to the target server: options of their own, so
 * that the source's token never goes to the target, nor the target's to the source.
 */
final class IntoAuthOptions {
  @Option(names = "--into-token", paramLabel = "TOKEN",
      description = "With --into: a bearer token for the target, sent as it is.")
  String token;

  @Option(names = "--into-token-file", paramLabel = "FILE",
      description = "With --into: a file holding the target's bearer token.")
  Path tokenFile;

  @Option(names = "--into-client-id", paramLabel = "ID",
      description = "With --into: SMART Backend Services client id at the target (with --into-private-key).")
  String clientId;

  @Option(names = "--into-private-key", paramLabel = "FILE",
      description = "With --into: the private key of that client, PEM or a private JWK.")
  Path privateKey;

  @Option(names = "--into-key-id", paramLabel = "KID", description = "With --into: the kid of that key.")
  String keyId;

  @Option(names = "--into-scope", defaultValue = "system/*.write",
      description = "With --into: the scopes to ask the target for (default ${DEFAULT-VALUE}).")
  String scope;

  ServerCredentials given() {
    return new ServerCredentials("--into-", token, tokenFile, clientId, privateKey, keyId);
  }
}

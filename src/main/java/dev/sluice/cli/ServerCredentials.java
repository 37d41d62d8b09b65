package dev.sluice.cli;

import dev.sluice.client.Credentials;
import dev.sluice.client.SmartTokenSource;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;

/**
 * What the command line gives to prove who the client is to one server: a bearer token, a file
 * holding one, or a SMART Backend Services client (id and private key), at most one kind.
 *
 * @param prefix how the options are named for this server ({@code --} for the server the command
 *     talks to, {@code --into-} for the target of {@code sluice export --into}), for messages
 */
record ServerCredentials(String prefix, String token, Path tokenFile, String clientId, Path privateKey, String keyId) {

  boolean given() {
    return token != null || tokenFile != null || clientId != null || privateKey != null;
  }

  /**
   * None without any of these options, else the token or the SMART token source.
   *
   * @throws IllegalArgumentException when two kinds are given, only one of client id and key, or
   *     the token file or key cannot be read
   */
  Credentials credentials(URI server, String scope, HttpClient http) {
    boolean smart = clientId != null || privateKey != null;
    int kinds = (token != null ? 1 : 0) + (tokenFile != null ? 1 : 0) + (smart ? 1 : 0);
    if (kinds > 1) {
      throw new IllegalArgumentException("give one of " + prefix + "token, " + prefix + "token-file or " + prefix
          + "client-id with " + prefix + "private-key");
    }
    if (token != null) {
      return Credentials.bearer(token.strip());
    }
    if (tokenFile != null) {
      try {
        return Credentials.bearer(Files.readString(tokenFile).strip());
      } catch (IOException e) {
        throw new IllegalArgumentException("cannot read " + prefix + "token-file " + tokenFile + ": "
            + e.getMessage(), e);
      }
    }
    if (!smart) {
      return Credentials.none();
    }
    if (clientId == null || privateKey == null) {
      throw new IllegalArgumentException(prefix + "client-id and " + prefix + "private-key come together");
    }
    return new SmartTokenSource(new SmartTokenSource.Settings(server, clientId,
        SmartTokenSource.readKey(privateKey, keyId), scope), http, Clock.systemUTC());
  }
}

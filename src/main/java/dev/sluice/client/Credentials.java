package dev.sluice.client;

import java.util.Optional;

/**
 * How a client of a FHIR server ({@code sluice load}, {@code sluice export}) proves who it is:
 * not at all, with a token the user got elsewhere, or with bearer tokens from a
 * {@link SmartTokenSource}.
 */
public sealed interface Credentials permits Credentials.None, Credentials.Bearer, SmartTokenSource {

  /** No {@code Authorization} header: a server without authorization. */
  record None() implements Credentials {
    @Override
    public Optional<String> authorization() {
      return Optional.empty();
    }

    @Override
    public void rejected() {
      // nothing to renew
    }
  }

  static Credentials none() {
    return new None();
  }

  /** A token given as it is ({@code --token}): sent unchanged, never renewed. */
  record Bearer(String token) implements Credentials {
    @Override
    public Optional<String> authorization() {
      return Optional.of("Bearer " + token);
    }

    @Override
    public void rejected() {
      // a given token cannot be renewed: the 401 reaches the user
    }

    @Override
    public String toString() {
      return "Bearer[****]";
    }
  }

  static Credentials bearer(String token) {
    return new Bearer(token);
  }

  /**
   * The {@code Authorization} header value for the next request, or empty.
   *
   * @throws IllegalStateException when no token can be had (the reason for the user)
   */
  Optional<String> authorization();

  /** The server answered 401: a token still believed valid is dropped, so the next one is new. */
  void rejected();
}

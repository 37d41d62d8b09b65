package dev.sluice.auth;

/**
 * A request's bearer token is missing, malformed, expired, badly signed, or from another
 * issuer or for another audience: answered 401 with
 * {@code WWW-Authenticate: Bearer error="invalid_token"} and an OperationOutcome.
 * The message says which, for the client's developer; it never repeats the token.
 */
public final class InvalidTokenException extends RuntimeException {
  public InvalidTokenException(String message) {
    super(message);
  }

  public InvalidTokenException(String message, Throwable cause) {
    super(message, cause);
  }
}

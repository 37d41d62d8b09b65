package dev.sluice.auth;

/**
 * A request's bearer token is missing, malformed, expired, badly signed, or from another
 * issuer or for another audience: answered 401 with
 * {@code WWW-Authenticate: Bearer error="invalid_token"} and an OperationOutcome, or, when the
 * request carries no bearer token at all ({@link #noToken}), with a bare {@code Bearer} challenge
 * (RFC 6750 section 3.1: no error code for a client that may not know a token is needed).
 * The message says which, for the client's developer; it never repeats the token.
 */
public final class InvalidTokenException extends RuntimeException {
  private final boolean tokenGiven;

  public InvalidTokenException(String message) {
    this(message, null, true);
  }

  public InvalidTokenException(String message, Throwable cause) {
    this(message, cause, true);
  }

  private InvalidTokenException(String message, Throwable cause, boolean tokenGiven) {
    super(message, cause);
    this.tokenGiven = tokenGiven;
  }

  /** No Authorization header, or one of another scheme than Bearer. */
  public static InvalidTokenException noToken(String message) {
    return new InvalidTokenException(message, null, false);
  }

  /** False when the request carried no bearer token: the challenge then names no error. */
  public boolean tokenGiven() {
    return tokenGiven;
  }
}

package dev.sluice.auth;

/**
 * A token request refused, as RFC 6749 section 5.2 answers it: {@code error} and
 * {@code error_description} in a JSON body, status 400 (401 for {@code invalid_client}).
 */
public final class OAuthError extends RuntimeException {
  private final String error;

  private OAuthError(String error, String description) {
    super(description);
    this.error = error;
  }

  public static OAuthError invalidRequest(String description) {
    return new OAuthError("invalid_request", description);
  }

  public static OAuthError invalidClient(String description) {
    return new OAuthError("invalid_client", description);
  }

  public static OAuthError invalidGrant(String description) {
    return new OAuthError("invalid_grant", description);
  }

  public static OAuthError invalidScope(String description) {
    return new OAuthError("invalid_scope", description);
  }

  public static OAuthError unsupportedGrantType(String description) {
    return new OAuthError("unsupported_grant_type", description);
  }

  public String error() {
    return error;
  }

  public int status() {
    return error.equals("invalid_client") ? 401 : 400;
  }
}

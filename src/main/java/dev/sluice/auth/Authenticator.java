package dev.sluice.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * The authorization filter's decision, apart from HTTP: a request's {@code Authorization}
 * header to the {@link Caller} it stands for, or {@link InvalidTokenException}.
 */
public final class Authenticator {
  private final AuthMode mode;
  private final TokenVerifier verifier;

  private Authenticator(AuthMode mode, TokenVerifier verifier) {
    this.mode = mode;
    this.verifier = verifier;
  }

  /** {@code --auth none}: every request is an anonymous caller allowed everything. */
  public static Authenticator none() {
    return new Authenticator(AuthMode.NONE, null);
  }

  /** {@code smart} or {@code oidc}: every request needs a bearer token the verifier accepts. */
  public static Authenticator bearer(AuthMode mode, TokenVerifier verifier) {
    if (mode == AuthMode.NONE) {
      throw new IllegalArgumentException("--auth none has no token verifier");
    }
    return new Authenticator(mode, Objects.requireNonNull(verifier, "verifier"));
  }

  public AuthMode mode() {
    return mode;
  }

  /**
   * @param authorization the request's {@code Authorization} header, or null
   * @param remoteAddress the peer's address, to tell anonymous callers apart under {@code none}
   * @throws InvalidTokenException in {@code smart} and {@code oidc} modes when there is no
   *     valid bearer token
   */
  public Caller caller(String authorization, String remoteAddress) {
    if (mode == AuthMode.NONE) {
      return Caller.anonymous(standIn(authorization, remoteAddress));
    }
    if (authorization == null || authorization.isBlank()) {
      throw InvalidTokenException.noToken("This server needs an access token: send 'Authorization: Bearer <token>'"
          + " (see the token_endpoint in [base]/.well-known/smart-configuration)");
    }
    String value = authorization.trim();
    if (value.length() < 7 || !value.substring(0, 7).toLowerCase(Locale.ROOT).equals("bearer ")) {
      throw InvalidTokenException.noToken("The Authorization header must be 'Bearer <token>'");
    }
    String token = value.substring(7).trim();
    if (token.isEmpty()) {
      throw new InvalidTokenException("The Authorization header has no token after 'Bearer'");
    }
    return verifier.verify(token);
  }

  /**
   * A hash of the Authorization header (never the credential itself), else the remote
   * address: what keeps one anonymous client's identical kick-offs apart from another's.
   */
  private static String standIn(String authorization, String remoteAddress) {
    if (authorization != null && !authorization.isBlank()) {
      try {
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(authorization.trim().getBytes(StandardCharsets.UTF_8));
        return "auth:" + HexFormat.of().formatHex(digest, 0, 16);
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-256 is part of every JDK", e);
      }
    }
    return "addr:" + remoteAddress;
  }
}

package dev.sluice.auth;

/**
 * The seam between the authorization filter and the modes that issue tokens: turns a bearer
 * token into the {@link Caller} it stands for.
 *
 * <p>Two implementations: {@code smart} mode's {@link SmartTokenVerifier} (tokens Sluice
 * signed itself at {@code [base]/auth/token}) and {@code oidc} mode's verifier (tokens of an
 * external identity provider, found through its discovery document). The filter
 * ({@link Authenticator}) takes the token from {@code Authorization: Bearer ...}, calls
 * {@link #verify}, and hands the {@code Caller} to the routes; {@code --auth none} has no
 * verifier at all.
 *
 * <p>What an implementation must do: check the signature against keys it trusts (refusing
 * {@code alg: none} and HMAC), the expiry, the issuer and the audience; build the caller from
 * the token's client ({@code client_id}, else {@code azp}, else {@code sub}) and its scopes as
 * {@link Scopes#parse} reads them (SMART v1 and v2; an oidc verifier maps roles to scopes
 * before). Throw {@link InvalidTokenException} for every token that fails, with a message a
 * client developer can act on and never the token itself; throw nothing else for a bad token
 * (other exceptions are server faults, answered 500). Implementations are called concurrently
 * and must be thread-safe. They may cache a verified token until it expires.
 */
public interface TokenVerifier {
  /**
   * @param bearerToken the token after {@code Bearer }, never null or blank
   * @throws InvalidTokenException when the token does not prove a caller
   */
  Caller verify(String bearerToken);
}

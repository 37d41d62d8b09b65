package dev.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

/**
 * {@code --auth smart}: verifies the access tokens Sluice issued itself at
 * {@code [base]/auth/token} (signed RS384 by one of its {@link SigningKeys}, for its own issuer
 * as issuer and audience). Every call checks the signature; remembering verified tokens is
 * the caller's choice (a cache in front of any verifier).
 */
public final class SmartTokenVerifier implements TokenVerifier {
  /** Clocks of the processes that share a database may differ this much. */
  static final Duration CLOCK_SKEW = Duration.ofSeconds(10);
  private final SigningKeys keys;
  private final String issuer;
  private final Clock clock;

  public SmartTokenVerifier(SigningKeys keys, String issuer, Clock clock) {
    this.keys = keys;
    this.issuer = issuer;
    this.clock = clock;
  }

  @Override
  public Caller verify(String bearerToken) {
    Instant now = clock.instant();
    SignedJWT jwt;
    JWTClaimsSet claims;
    try {
      jwt = SignedJWT.parse(bearerToken);
      claims = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw new InvalidTokenException("The access token is not a signed JWT");
    }
    if (!SigningKeys.ALGORITHM.equals(jwt.getHeader().getAlgorithm())) {
      throw new InvalidTokenException("The access token is signed with " + jwt.getHeader().getAlgorithm()
          + "; this server's tokens are signed " + SigningKeys.ALGORITHM);
    }
    String kid = jwt.getHeader().getKeyID();
    RSAKey key = kid == null ? null : keys.forVerification(kid);
    if (key == null) {
      throw new InvalidTokenException("The access token was not signed by a key of this server (another issuer,"
          + " or a key retired long ago); get a new token");
    }
    try {
      if (!jwt.verify(new RSASSAVerifier(key.toRSAPublicKey()))) {
        throw new InvalidTokenException("The access token's signature is not valid");
      }
    } catch (JOSEException e) {
      throw new InvalidTokenException("The access token's signature cannot be verified: " + e.getMessage(), e);
    }
    if (!issuer.equals(claims.getIssuer())) {
      throw new InvalidTokenException("The access token was issued by " + claims.getIssuer() + ", not by " + issuer);
    }
    if (claims.getAudience() == null || !claims.getAudience().contains(issuer)) {
      throw new InvalidTokenException("The access token is meant for " + claims.getAudience() + ", not for " + issuer);
    }
    Date exp = claims.getExpirationTime();
    if (exp == null || !now.isBefore(exp.toInstant().plus(CLOCK_SKEW))) {
      throw new InvalidTokenException("The access token has expired; get a new one");
    }
    String clientId;
    String scope;
    try {
      clientId = claims.getStringClaim("client_id");
      scope = claims.getStringClaim("scope");
    } catch (ParseException e) {
      throw new InvalidTokenException("The access token's client_id or scope is not a string");
    }
    if (clientId == null || clientId.isBlank()) {
      throw new InvalidTokenException("The access token names no client_id");
    }
    return Caller.of(clientId, Scopes.parse(scope));
  }
}

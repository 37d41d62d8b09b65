package dev.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sluice.store.AssertionJtiTable;
import dev.sluice.store.ClientRow;
import dev.sluice.store.ClientTable;
import java.sql.SQLException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code --auth smart}: Sluice as the authorization server of SMART Backend Services. A
 * registered client proves who it is with a JWT it signed (RS384 or ES384) with a key it
 * registered, and gets an access token for the scopes it asked that it was registered for.
 */
public final class SmartAuthority {
  private static final Logger log = LoggerFactory.getLogger(SmartAuthority.class);

  public static final String CLIENT_CREDENTIALS = "client_credentials";
  public static final String JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  public static final Set<JWSAlgorithm> ASSERTION_ALGORITHMS = Set.of(JWSAlgorithm.RS384, JWSAlgorithm.ES384);
  /** SMART Backend Services: an assertion expires no more than five minutes after it is made. */
  static final Duration MAX_ASSERTION_LIFETIME = Duration.ofMinutes(5);

  /** What the token endpoint answers. */
  public record TokenResponse(String accessToken, long expiresIn, String scope) {}

  private final ClientTable clients;
  private final AssertionJtiTable jtis;
  private final ClientKeys clientKeys;
  private final SigningKeys keys;
  private final String issuer;
  private final Duration tokenLifetime;
  private final Clock clock;

  public SmartAuthority(ClientTable clients, AssertionJtiTable jtis, ClientKeys clientKeys, SigningKeys keys,
      String issuer, Duration tokenLifetime, Clock clock) {
    this.clients = clients;
    this.jtis = jtis;
    this.clientKeys = clientKeys;
    this.keys = keys;
    this.issuer = issuer;
    this.tokenLifetime = tokenLifetime;
    this.clock = clock;
  }

  public String issuer() {
    return issuer;
  }

  public SigningKeys keys() {
    return keys;
  }

  /**
   * A token request ({@code application/x-www-form-urlencoded} parameters) to the token endpoint.
   *
   * @param tokenUrl the URL this request was sent to: the assertion's required audience
   * @throws OAuthError for every request that does not earn a token
   */
  public TokenResponse token(Map<String, String> form, String tokenUrl) {
    String grantType = form.get("grant_type");
    if (grantType == null) {
      throw OAuthError.invalidRequest("grant_type is missing; SMART Backend Services use grant_type=client_credentials");
    }
    if (!grantType.equals(CLIENT_CREDENTIALS)) {
      throw OAuthError.unsupportedGrantType("grant_type '" + grantType + "' is not supported; use client_credentials");
    }
    if (!JWT_BEARER.equals(form.get("client_assertion_type"))) {
      throw OAuthError.invalidRequest("client_assertion_type must be " + JWT_BEARER);
    }
    String assertion = form.get("client_assertion");
    if (assertion == null || assertion.isBlank()) {
      throw OAuthError.invalidRequest("client_assertion is missing: a JWT signed with the client's registered key");
    }
    ClientRow client = authenticate(assertion, form.get("client_id"), tokenUrl);
    String asked = form.get("scope");
    if (asked == null || asked.isBlank()) {
      throw OAuthError.invalidScope("scope is missing: ask for the scopes the token needs, e.g. system/*.read");
    }
    Scopes granted = Scopes.parse(client.scope()).grant(Scopes.parse(asked));
    if (granted.isEmpty()) {
      throw OAuthError.invalidScope("None of the scopes asked (" + asked + ") is among those client " + client.id()
          + " is registered for (" + client.scope() + ")");
    }
    String token = sign(client.id(), granted);
    log.info("Access token issued to client {} for {} (asked {})", client.id(), granted.text(), asked);
    return new TokenResponse(token, tokenLifetime.toSeconds(), granted.text());
  }

  /** The client the assertion proves, after every check SMART Backend Services asks for. */
  private ClientRow authenticate(String assertion, String formClientId, String tokenUrl) {
    JWT parsed;
    try {
      parsed = JWTParser.parse(assertion);
    } catch (ParseException e) {
      throw OAuthError.invalidClient("client_assertion is not a JWT: " + e.getMessage());
    }
    if (!(parsed instanceof SignedJWT jwt)) {
      throw OAuthError.invalidClient("client_assertion is not signed (alg none is refused); sign it RS384 or ES384");
    }
    JWSHeader header = jwt.getHeader();
    if (!ASSERTION_ALGORITHMS.contains(header.getAlgorithm())) {
      throw OAuthError.invalidClient("client_assertion is signed " + header.getAlgorithm()
          + ", which is refused; sign it RS384 or ES384 with a registered key");
    }
    JWTClaimsSet unverified;
    try {
      unverified = jwt.getJWTClaimsSet();
    } catch (ParseException e) {
      throw OAuthError.invalidClient("client_assertion's claims cannot be read: " + e.getMessage());
    }
    String id = unverified.getIssuer();
    if (id == null || !id.equals(unverified.getSubject())) {
      throw OAuthError.invalidClient("client_assertion's iss and sub must both be the client id");
    }
    if (formClientId != null && !formClientId.equals(id)) {
      throw OAuthError.invalidClient("client_id '" + formClientId + "' is not the assertion's issuer '" + id + "'");
    }
    ClientRow client = findClient(id);
    if (header.getKeyID() == null) {
      throw OAuthError.invalidClient("client_assertion has no kid header: name the registered key that signed it");
    }
    if (header.getJWKURL() != null && !header.getJWKURL().toString().equals(client.jwksUrl())) {
      throw OAuthError.invalidClient("client_assertion's jku '" + header.getJWKURL()
          + "' is not the jwks_url registered for client " + id);
    }
    JWTClaimsSet claims = verify(jwt, client, tokenUrl);
    Instant now = clock.instant();
    Instant exp = claims.getExpirationTime().toInstant();
    if (exp.isAfter(now.plus(MAX_ASSERTION_LIFETIME).plus(SmartTokenVerifier.CLOCK_SKEW))) {
      throw OAuthError.invalidClient("client_assertion's exp is more than 5 minutes ahead");
    }
    try {
      if (!jtis.recordFirstUse(id, claims.getJWTID(), exp.plus(SmartTokenVerifier.CLOCK_SKEW), now)) {
        throw OAuthError.invalidClient("client_assertion's jti was used before: every assertion needs a new jti");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("Recording the assertion's jti failed: " + e.getMessage(), e);
    }
    return client;
  }

  private ClientRow findClient(String id) {
    try {
      return clients.find(id).orElseThrow(() -> OAuthError.invalidClient("No client '" + id + "' is registered"
          + " (sluice clients add)"));
    } catch (SQLException e) {
      throw new IllegalStateException("Reading the client failed: " + e.getMessage(), e);
    }
  }

  private JWTClaimsSet verify(SignedJWT jwt, ClientRow client, String tokenUrl) {
    JWKSource<SecurityContext> source = clientKeys.of(client);
    DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ASSERTION_ALGORITHMS, source));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(tokenUrl,
        new JWTClaimsSet.Builder().issuer(client.id()).subject(client.id()).build(), Set.of("exp", "jti"));
    claims.setMaxClockSkew((int) SmartTokenVerifier.CLOCK_SKEW.toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
    try {
      return processor.process(jwt, null);
    } catch (BadJOSEException e) {
      throw OAuthError.invalidClient(describe(e, client, tokenUrl));
    } catch (JOSEException e) {
      throw OAuthError.invalidClient("client_assertion could not be verified with the keys registered for client "
          + client.id() + ": " + e.getMessage());
    }
  }

  private static String describe(BadJOSEException e, ClientRow client, String tokenUrl) {
    String m = e.getMessage() == null ? "" : e.getMessage();
    if (m.contains("no matching key")) {
      return "client_assertion's kid names no " + "key registered for client " + client.id();
    }
    if (m.contains("audience")) {
      return "client_assertion's aud must be this token endpoint, " + tokenUrl;
    }
    if (m.contains("Expired")) {
      return "client_assertion has expired";
    }
    if (m.contains("signature")) {
      return "client_assertion's signature is not valid for the registered key";
    }
    return "client_assertion refused: " + m;
  }

  private String sign(String clientId, Scopes granted) {
    RSAKey key = keys.current();
    Instant now = clock.instant();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(issuer)
        .audience(issuer)
        .subject(clientId)
        .claim("client_id", clientId)
        .claim("scope", granted.text())
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(tokenLifetime)))
        .jwtID(UUID.randomUUID().toString())
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(SigningKeys.ALGORITHM).keyID(key.getKeyID())
        .type(new JOSEObjectType("at+jwt")).build(), claims);
    try {
      jwt.sign(new RSASSASigner(key));
    } catch (JOSEException e) {
      throw new IllegalStateException("Signing the access token failed", e);
    }
    return jwt.serialize();
  }
}

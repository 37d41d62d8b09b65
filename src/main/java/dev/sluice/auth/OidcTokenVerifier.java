package dev.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Issue;
import java.net.MalformedURLException;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * {@code oidc} mode: access tokens of an existing identity provider (Microsoft Entra ID,
 * Keycloak, Okta, ...). Nimbus checks the signature against the provider's published keys
 * (fetched from its {@code jwks_uri}, cached, fetched again when a token names a key id the
 * cache lacks, which is how a rotated key is picked up), the expiry, the issuer and the
 * audience. The caller's scopes are the SMART scopes in {@code scope} or {@code scp} plus those
 * its application roles ({@code roles}) stand for; its client id is {@code client_id},
 * {@code azp} or {@code appid} (Entra ID v1), else {@code sub}.
 */
public final class OidcTokenVerifier implements TokenVerifier {
  /** Asymmetric signatures only: never {@code none}, never HMAC (a shared secret is no proof of the issuer). */
  private static final Set<JWSAlgorithm> ALGORITHMS = Set.of(JWSAlgorithm.RS256, JWSAlgorithm.RS384,
      JWSAlgorithm.RS512, JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512, JWSAlgorithm.ES256,
      JWSAlgorithm.ES384, JWSAlgorithm.ES512);

  /**
   * @param audience the {@code aud} a token must name ({@code --oidc-audience})
   * @param clockSkew how far {@code exp} and {@code nbf} may be off
   * @param keyRefetchInterval the shortest time between two fetches of the key set, so that
   *     tokens naming unknown key ids cannot make Sluice hammer the provider (zero: no limit)
   */
  public record Settings(String audience, Duration clockSkew, Duration keyRefetchInterval) {
    public static final Duration CLOCK_SKEW = Duration.ofSeconds(60);
    /** Nimbus's own default. */
    public static final Duration KEY_REFETCH_INTERVAL = Duration.ofSeconds(30);

    public static Settings of(String audience) {
      return new Settings(audience, CLOCK_SKEW, KEY_REFETCH_INTERVAL);
    }
  }

  /** Nimbus's default is half a second, short for a provider across the internet. */
  private static final int KEY_FETCH_TIMEOUT_MS = 5_000;
  private static final int KEY_SET_MAX_BYTES = 512 * 1024;

  private final DefaultJWTProcessor<SecurityContext> processor;
  private final RoleScopes roles;

  public OidcTokenVerifier(OidcProvider provider, Settings settings, RoleScopes roles) {
    this.roles = roles;
    JWKSourceBuilder<SecurityContext> keys;
    try {
      keys = JWKSourceBuilder.create(provider.jwksUri().toURL(),
          new DefaultResourceRetriever(KEY_FETCH_TIMEOUT_MS, KEY_FETCH_TIMEOUT_MS, KEY_SET_MAX_BYTES)).retrying(true);
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("--oidc-issuer: the jwks_uri " + provider.jwksUri() + " is not a URL", e);
    }
    JWKSource<SecurityContext> source = (settings.keyRefetchInterval().isZero()
        ? keys.rateLimited(false) : keys.rateLimited(settings.keyRefetchInterval().toMillis())).build();
    processor = new DefaultJWTProcessor<>();
    // RFC 9068 access tokens say at+jwt; most providers still say JWT or nothing
    processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(JOSEObjectType.JWT,
        new JOSEObjectType("at+jwt"), new JOSEObjectType("application/at+jwt"), null));
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(ALGORITHMS, source));
    DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(
        Set.of(settings.audience()), new JWTClaimsSet.Builder().issuer(provider.issuer()).build(),
        Set.of("exp", "iss", "aud"), null);
    claims.setMaxClockSkew((int) settings.clockSkew().toSeconds());
    processor.setJWTClaimsSetVerifier(claims);
  }

  @Override
  public Caller verify(String bearerToken) {
    JWTClaimsSet claims;
    try {
      claims = processor.process(bearerToken, null);
    } catch (ParseException e) {
      throw new InvalidTokenException("The access token is not a signed JWT: " + e.getMessage());
    } catch (BadJOSEException e) {
      // expired, wrong issuer or audience, bad signature, unknown key, refused algorithm: Nimbus says which
      throw new InvalidTokenException("The access token was refused: " + e.getMessage());
    } catch (KeySourceException e) {
      throw new FhirException(503, List.of(Issue.error(Issue.Code.TRANSIENT,
          "The identity provider's signing keys cannot be fetched; try again later")), e);
    } catch (JOSEException e) {
      throw new InvalidTokenException("The access token's signature cannot be checked: " + e.getMessage());
    }
    try {
      List<String> scopes = new ArrayList<>(words(claims, "scope"));
      scopes.addAll(words(claims, "scp"));
      scopes.addAll(roles.scopesOf(values(claims, "roles")));
      return Caller.of(clientId(claims), Scopes.of(scopes.stream().distinct().toList()));
    } catch (ParseException e) {
      throw new InvalidTokenException("The access token's claims are malformed: " + e.getMessage());
    }
  }

  private static String clientId(JWTClaimsSet claims) throws ParseException {
    for (String name : List.of("client_id", "azp", "appid", "sub")) {
      String value = claims.getStringClaim(name);
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    throw new InvalidTokenException("The access token names no client (client_id, azp, appid or sub)");
  }

  /** A claim of space-separated words (RFC 8693 {@code scope}) or, as some providers write {@code scp}, an array. */
  private static List<String> words(JWTClaimsSet claims, String name) throws ParseException {
    List<String> out = new ArrayList<>();
    for (String v : values(claims, name)) {
      for (String w : v.trim().split("\\s+")) {
        if (!w.isEmpty()) {
          out.add(w);
        }
      }
    }
    return out;
  }

  private static List<String> values(JWTClaimsSet claims, String name) throws ParseException {
    Object value = claims.getClaim(name);
    if (value == null) {
      return List.of();
    }
    if (value instanceof String s) {
      return List.of(s);
    }
    List<String> list = claims.getStringListClaim(name);
    return list == null ? List.of() : list;
  }
}

package dev.sluice.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.auth.PemFiles;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.RSAPublicKeySpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * A SMART Backend Services client (client-confidential-asymmetric): gets access tokens from
 * the token endpoint that the server's {@code [base]/.well-known/smart-configuration} names,
 * with the client credentials grant and a client assertion signed RS384 (RSA key) or ES384
 * (P-384 key), and gets a new one before the current one expires. Shared by the commands that
 * talk to FHIR servers; thread-safe.
 */
public final class SmartTokenSource implements Credentials {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
  /** SMART: the assertion's exp at most five minutes ahead. */
  private static final Duration ASSERTION_LIFETIME = Duration.ofMinutes(4);
  /** Servers that omit expires_in: SMART's recommended lifetime. */
  private static final long DEFAULT_EXPIRES_IN = 300;
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /**
   * @param fhirBase the server's FHIR base URL, under which its discovery document is
   * @param clientId the client id the server knows this client by
   * @param key the client's private key: RSA (signs RS384) or EC P-384 (signs ES384), with the
   *     key id it is registered under
   * @param scope the scopes to ask for, space-separated
   */
  public record Settings(URI fhirBase, String clientId, JWK key, String scope) {}

  private final Settings settings;
  private final HttpClient http;
  private final Clock clock;
  private final JWSSigner signer;
  private final JWSAlgorithm algorithm;
  private URI tokenEndpoint;
  private String token;
  private Instant renewAt = Instant.MIN;

  public SmartTokenSource(Settings settings, HttpClient http, Clock clock) {
    this.settings = settings;
    this.http = http;
    this.clock = clock;
    try {
      if (settings.key() instanceof RSAKey rsa) {
        signer = new RSASSASigner(rsa);
        algorithm = JWSAlgorithm.RS384;
      } else if (settings.key() instanceof ECKey ec && ec.getCurve().equals(Curve.P_384)) {
        signer = new ECDSASigner(ec);
        algorithm = JWSAlgorithm.ES384;
      } else {
        throw new IllegalArgumentException("the private key must be RSA (RS384) or EC on P-384 (ES384)");
      }
    } catch (JOSEException e) {
      throw new IllegalArgumentException("the private key cannot sign: " + e.getMessage(), e);
    }
  }

  /**
   * The client's private key from a file: a PEM PKCS#8 key ({@code openssl genpkey}) or a JWK
   * with its private part. A JWK carries its {@code kid}; for a PEM key {@code keyId} gives it,
   * else an RSA key's id is its RFC 7638 thumbprint (an EC key needs one given).
   *
   * @throws IllegalArgumentException saying what is wrong with the file
   */
  public static JWK readKey(Path file, String keyId) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    if (text.stripLeading().startsWith("{")) {
      try {
        JWK jwk = JWK.parse(text);
        if (!jwk.isPrivate()) {
          throw new IllegalArgumentException(file + " is a public JWK; the client needs its private key");
        }
        return keyId == null ? jwk : keyWithId(jwk, keyId);
      } catch (java.text.ParseException e) {
        throw new IllegalArgumentException(file + " is not a JWK: " + e.getMessage(), e);
      }
    }
    PrivateKey key = PemFiles.privateKey(file);
    try {
      if (key instanceof RSAPrivateCrtKey rsa) {
        var pub = (java.security.interfaces.RSAPublicKey) KeyFactory.getInstance("RSA")
            .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
        RSAKey jwk = new RSAKey.Builder(pub).privateKey(rsa).build();
        return new RSAKey.Builder(jwk).keyID(keyId != null ? keyId : jwk.computeThumbprint().toString()).build();
      }
    } catch (java.security.GeneralSecurityException | JOSEException e) {
      throw new IllegalArgumentException("cannot use the RSA key in " + file + ": " + e.getMessage(), e);
    }
    if (key instanceof ECPrivateKey) {
      throw new IllegalArgumentException("an EC key in PEM has no public part to name it by: give --key-id, or the"
          + " key as a JWK with its kid");
    }
    throw new IllegalArgumentException(file + " holds a " + key.getAlgorithm() + " key; RSA or EC P-384 is needed");
  }

  private static JWK keyWithId(JWK jwk, String keyId) {
    if (jwk instanceof RSAKey rsa) {
      return new RSAKey.Builder(rsa).keyID(keyId).build();
    }
    if (jwk instanceof ECKey ec) {
      return new ECKey.Builder(ec).keyID(keyId).build();
    }
    throw new IllegalArgumentException("the JWK must be RSA or EC, is " + jwk.getKeyType());
  }

  @Override
  public synchronized Optional<String> authorization() {
    if (token == null || !clock.instant().isBefore(renewAt)) {
      fetch();
    }
    return Optional.of("Bearer " + token);
  }

  @Override
  public synchronized void rejected() {
    token = null;
  }

  /** The token endpoint from the server's discovery document, read once. */
  private URI tokenEndpoint() {
    if (tokenEndpoint == null) {
      URI url = URI.create(settings.fhirBase().toString().replaceAll("/+$", "") + "/.well-known/smart-configuration");
      JsonNode doc = call(HttpRequest.newBuilder(url).header("Accept", "application/json").GET(), url.toString());
      String endpoint = doc.path("token_endpoint").asText("");
      if (endpoint.isEmpty()) {
        throw new IllegalStateException(url + " names no token_endpoint");
      }
      tokenEndpoint = URI.create(endpoint);
    }
    return tokenEndpoint;
  }

  private void fetch() {
    URI endpoint = tokenEndpoint();
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "client_credentials");
    form.put("scope", settings.scope());
    form.put("client_assertion_type", ASSERTION_TYPE);
    form.put("client_assertion", assertion(endpoint));
    String body = form.entrySet().stream()
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    Instant asked = clock.instant();
    JsonNode answer = call(HttpRequest.newBuilder(endpoint)
        .header("Content-Type", "application/x-www-form-urlencoded").header("Accept", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)), "the token endpoint " + endpoint);
    String accessToken = answer.path("access_token").asText("");
    if (accessToken.isEmpty()) {
      throw new IllegalStateException("the token endpoint " + endpoint + " answered no access_token");
    }
    long expiresIn = answer.path("expires_in").asLong(DEFAULT_EXPIRES_IN);
    token = accessToken;
    // renewed once four fifths of its life are over, so that no request carries a token about to expire
    renewAt = asked.plusSeconds(expiresIn * 4 / 5);
  }

  private String assertion(URI endpoint) {
    Instant now = clock.instant();
    JWTClaimsSet claims = new JWTClaimsSet.Builder()
        .issuer(settings.clientId())
        .subject(settings.clientId())
        .audience(endpoint.toString())
        .issueTime(Date.from(now))
        .expirationTime(Date.from(now.plus(ASSERTION_LIFETIME)))
        .jwtID(UUID.randomUUID().toString())
        .build();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(algorithm).type(JOSEObjectType.JWT)
        .keyID(settings.key().getKeyID()).build(), claims);
    try {
      jwt.sign(signer);
    } catch (JOSEException e) {
      throw new IllegalStateException("cannot sign the client assertion: " + e.getMessage(), e);
    }
    return jwt.serialize();
  }

  /** A JSON answer of 200, else an exception with the RFC 6749 error the server gave. */
  private JsonNode call(HttpRequest.Builder request, String what) {
    try {
      HttpResponse<String> r = http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        String error = r.body().contains("\"error\"") ? JSON.readTree(r.body()).path("error").asText("") : "";
        throw new IllegalStateException(what + " answered " + r.statusCode() + (error.isEmpty() ? ""
            : ": " + error + " " + JSON.readTree(r.body()).path("error_description").asText("")));
      }
      return JSON.readTree(r.body());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(what + " answered something that is not JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot reach " + what + ": " + NoAnswer.describe(e), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while asking " + what, e);
    }
  }
}

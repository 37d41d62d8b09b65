package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.store.ClientRow;
import dev.sluice.store.ClientTable;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

/**
 * A SMART Backend Services client for tests: a real RSA or P-384 key made with Nimbus, its
 * assertions, and its token requests over HTTP.
 */
final class TestClient {
  static final ObjectMapper JSON = new ObjectMapper();

  private final String id;
  private final JWK key;
  private final JWSAlgorithm algorithm;

  private TestClient(String id, JWK key, JWSAlgorithm algorithm) {
    this.id = id;
    this.key = key;
    this.algorithm = algorithm;
  }

  static TestClient rsa(String id) {
    try {
      return new TestClient(id, new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).generate(),
          JWSAlgorithm.RS384);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static TestClient ec(String id) {
    try {
      return new TestClient(id, new ECKeyGenerator(Curve.P_384).keyID(UUID.randomUUID().toString()).generate(),
          JWSAlgorithm.ES384);
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The same client naming its key by another kid (the thumbprint {@code sluice clients add --public-key} gives it). */
  TestClient withKid(String kid) {
    try {
      JWK renamed = key instanceof com.nimbusds.jose.jwk.RSAKey rsa
          ? new com.nimbusds.jose.jwk.RSAKey.Builder(rsa).keyID(kid).build()
          : new com.nimbusds.jose.jwk.ECKey.Builder(key.toECKey()).keyID(kid).build();
      return new TestClient(id, renamed, algorithm);
    } catch (RuntimeException e) {
      throw new IllegalStateException(e);
    }
  }

  String id() {
    return id;
  }

  JWK key() {
    return key;
  }

  /** The public JWK Set a client registers or publishes. */
  String publicJwks() {
    return new JWKSet(key.toPublicJWK()).toString();
  }

  /** Registers the client with its keys inline. */
  TestClient registerInline(TestServer server, String scope) {
    return register(server, new ClientRow(id, null, publicJwks(), scope, null));
  }

  /** Registers the client with its keys at a URL. */
  TestClient registerUrl(TestServer server, String jwksUrl, String scope) {
    return register(server, new ClientRow(id, jwksUrl, null, scope, null));
  }

  private TestClient register(TestServer server, ClientRow row) {
    try {
      new ClientTable(server.app().dataSource()).put(row);
      return this;
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static JWTClaimsSet.Builder claims(String id, String aud) {
    return new JWTClaimsSet.Builder().issuer(id).subject(id).audience(aud)
        .expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(4)))).jwtID(UUID.randomUUID().toString());
  }

  String assertion(String aud) {
    return assertion(aud, c -> c, h -> h);
  }

  /** An assertion signed with this client's key, its claims and header changed as the test needs. */
  String assertion(String aud, UnaryOperator<JWTClaimsSet.Builder> claims, UnaryOperator<JWSHeader.Builder> header) {
    try {
      SignedJWT jwt = new SignedJWT(header.apply(new JWSHeader.Builder(algorithm).keyID(key.getKeyID())).build(),
          claims.apply(claims(id, aud)).build());
      JWSSigner signer = algorithm == JWSAlgorithm.RS384 ? new RSASSASigner(key.toRSAKey())
          : new ECDSASigner(key.toECKey());
      jwt.sign(signer);
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  static String tokenUrl(TestServer server) {
    return server.base() + "/auth/token";
  }

  /** POSTs a token request with this assertion and scope. */
  static HttpResponse<String> requestToken(TestServer server, String assertion, String scope) {
    Map<String, String> form = new LinkedHashMap<>();
    form.put("grant_type", "client_credentials");
    form.put("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    form.put("client_assertion", assertion);
    if (scope != null) {
      form.put("scope", scope);
    }
    return postForm(server, form);
  }

  static HttpResponse<String> postForm(TestServer server, Map<String, String> form) {
    String body = form.entrySet().stream()
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    return server.send("POST", tokenUrl(server), body, "Content-Type", "application/x-www-form-urlencoded");
  }

  /** A fresh access token for these scopes. */
  String token(TestServer server, String scope) {
    HttpResponse<String> r = requestToken(server, assertion(tokenUrl(server)), scope);
    if (r.statusCode() != 200) {
      throw new IllegalStateException("token request failed: " + r.statusCode() + " " + r.body());
    }
    return json(r).get("access_token").asText();
  }

  static JsonNode json(HttpResponse<String> r) {
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Polls an export's status URL with a token until the job leaves 202; returns the manifest. */
  static JsonNode awaitManifest(TestServer server, String statusUrl, String authorization) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      HttpResponse<String> r = server.get(statusUrl, "Authorization", authorization);
      if (r.statusCode() != 202) {
        if (r.statusCode() != 200) {
          throw new AssertionError("export status " + r.statusCode() + ": " + r.body());
        }
        return json(r);
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("export still running after 60 s");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
  }
}

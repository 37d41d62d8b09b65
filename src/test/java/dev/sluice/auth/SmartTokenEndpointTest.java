package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.cli.AuthConfig;
import dev.sluice.testing.TestServer;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code --auth smart}: the token endpoint of SMART Backend Services, over real HTTP with real keys. */
class SmartTokenEndpointTest {
  private static TestServer server;
  private static JwksServer jwks;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Files.createTempDirectory("sluice-smart-token"),
        dir -> TestServer.config(dir).with(AuthConfig.smart()));
    jwks = new JwksServer();
  }

  @AfterAll
  static void stop() {
    jwks.close();
    server.close();
  }

  private static TestClient rsaAtUrl(String id, String scope) {
    TestClient c = TestClient.rsa(id);
    return c.registerUrl(server, jwks.publish(c), scope);
  }

  private static void assertRefused(HttpResponse<String> r, String error, String description) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(error.equals("invalid_client") ? 401 : 400);
    JsonNode body = TestClient.json(r);
    assertThat(body.get("error").asText()).isEqualTo(error);
    assertThat(body.get("error_description").asText()).contains(description);
  }

  @Test
  void rsa_client_with_a_jwks_url_gets_a_token_for_the_asked_scopes_it_is_registered_for() {
    TestClient c = rsaAtUrl("rsa-url", "system/*.read system/Observation.write");
    HttpResponse<String> r = TestClient.requestToken(server, c.assertion(TestClient.tokenUrl(server)),
        "system/Patient.read system/Observation.write system/Encounter.write");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Cache-Control")).hasValue("no-store");
    JsonNode body = TestClient.json(r);
    assertThat(body.get("token_type").asText()).isEqualTo("bearer");
    assertThat(body.get("expires_in").asLong()).isEqualTo(300);
    assertThat(body.get("scope").asText()).isEqualTo("system/Patient.read system/Observation.write");
    assertThat(body.get("access_token").asText()).isNotBlank();
  }

  @Test
  void es384_client_with_inline_keys_gets_a_token() {
    TestClient c = TestClient.ec("ec-inline").registerInline(server, "system/*.rs");
    HttpResponse<String> r = TestClient.requestToken(server, c.assertion(TestClient.tokenUrl(server)), "system/*.rs");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(TestClient.json(r).get("scope").asText()).isEqualTo("system/*.rs");
  }

  @Test
  void a_replayed_assertion_is_refused() {
    TestClient c = rsaAtUrl("replay", "system/*.read");
    String assertion = c.assertion(TestClient.tokenUrl(server));
    assertThat(TestClient.requestToken(server, assertion, "system/*.read").statusCode()).isEqualTo(200);
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "jti was used before");
  }

  @Test
  void an_expired_assertion_is_refused() {
    TestClient c = rsaAtUrl("expired", "system/*.read");
    String assertion = c.assertion(TestClient.tokenUrl(server),
        b -> b.expirationTime(Date.from(Instant.now().minus(Duration.ofMinutes(2)))), h -> h);
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "expired");
  }

  @Test
  void an_assertion_that_expires_more_than_five_minutes_ahead_is_refused() {
    TestClient c = rsaAtUrl("long-lived", "system/*.read");
    String assertion = c.assertion(TestClient.tokenUrl(server),
        b -> b.expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(10)))), h -> h);
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "5 minutes");
  }

  @Test
  void an_assertion_for_another_audience_is_refused() {
    TestClient c = rsaAtUrl("wrong-aud", "system/*.read");
    String assertion = c.assertion("https://other.example/token");
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "aud");
  }

  @Test
  void an_unsigned_assertion_alg_none_is_refused() {
    rsaAtUrl("alg-none", "system/*.read");
    String assertion = new PlainJWT(TestClient.claims("alg-none", TestClient.tokenUrl(server)).build()).serialize();
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "alg none");
  }

  @Test
  void an_assertion_signed_hs256_with_the_public_key_as_secret_is_refused() throws Exception {
    TestClient c = rsaAtUrl("hmac", "system/*.read");
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(c.key().getKeyID()).build(),
        TestClient.claims("hmac", TestClient.tokenUrl(server)).build());
    jwt.sign(new MACSigner(c.key().toRSAKey().toPublicKey().getEncoded()));
    assertRefused(TestClient.requestToken(server, jwt.serialize(), "system/*.read"), "invalid_client", "HS256");
  }

  @Test
  void an_assertion_whose_kid_names_no_registered_key_is_refused() {
    TestClient c = rsaAtUrl("unknown-kid", "system/*.read");
    String assertion = c.assertion(TestClient.tokenUrl(server), b -> b, h -> h.keyID("not-registered"));
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "kid");
  }

  @Test
  void an_assertion_signed_with_an_unregistered_key_under_a_registered_kid_is_refused() {
    TestClient registered = rsaAtUrl("impostor", "system/*.read");
    TestClient other = TestClient.rsa("impostor");
    String assertion = other.assertion(TestClient.tokenUrl(server), b -> b,
        h -> h.keyID(registered.key().getKeyID()));
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "signature");
  }

  @Test
  void a_jku_other_than_the_registered_url_is_refused_and_the_registered_one_accepted() {
    TestClient c = TestClient.rsa("jku");
    String url = jwks.publish(c);
    c.registerUrl(server, url, "system/*.read");
    String elsewhere = c.assertion(TestClient.tokenUrl(server), b -> b,
        h -> h.jwkURL(URI.create("https://attacker.example/jwks.json")));
    assertRefused(TestClient.requestToken(server, elsewhere, "system/*.read"), "invalid_client", "jku");
    String same = c.assertion(TestClient.tokenUrl(server), b -> b, h -> h.jwkURL(URI.create(url)));
    assertThat(TestClient.requestToken(server, same, "system/*.read").statusCode()).isEqualTo(200);
  }

  @Test
  void a_scope_the_client_is_not_registered_for_is_refused() {
    TestClient c = rsaAtUrl("narrow", "system/Patient.read");
    assertRefused(TestClient.requestToken(server, c.assertion(TestClient.tokenUrl(server)), "system/Observation.read"),
        "invalid_scope", "system/Patient.read");
  }

  @Test
  void an_unregistered_client_is_refused() {
    TestClient c = TestClient.rsa("never-registered");
    assertRefused(TestClient.requestToken(server, c.assertion(TestClient.tokenUrl(server)), "system/*.read"),
        "invalid_client", "No client 'never-registered'");
  }

  @Test
  void an_assertion_whose_iss_is_not_its_sub_is_refused() {
    TestClient c = rsaAtUrl("iss-sub", "system/*.read");
    String assertion = c.assertion(TestClient.tokenUrl(server), b -> b.subject("someone-else"), h -> h);
    assertRefused(TestClient.requestToken(server, assertion, "system/*.read"), "invalid_client", "iss and sub");
  }

  @Test
  void another_grant_type_is_unsupported_and_garbage_is_a_400_not_a_500() {
    assertRefused(TestClient.postForm(server, Map.of("grant_type", "password")), "unsupported_grant_type", "password");
    assertRefused(TestClient.postForm(server, Map.of()), "invalid_request", "grant_type");
    assertRefused(TestClient.requestToken(server, "not.a.jwt", "system/*.read"), "invalid_client", "not a JWT");
    HttpResponse<String> json = server.send("POST", TestClient.tokenUrl(server), "{}", "Content-Type", "application/json");
    assertRefused(json, "invalid_request", "form");
  }

  @Test
  void discovery_and_the_capability_statement_name_the_token_endpoint_without_a_token() {
    HttpResponse<String> config = server.get(".well-known/smart-configuration");
    assertThat(config.statusCode()).isEqualTo(200);
    JsonNode c = TestClient.json(config);
    assertThat(c.get("token_endpoint").asText()).isEqualTo(TestClient.tokenUrl(server));
    assertThat(c.get("token_endpoint_auth_methods_supported").toString()).contains("private_key_jwt");
    assertThat(c.get("token_endpoint_auth_signing_alg_values_supported").toString()).contains("RS384", "ES384");
    assertThat(c.get("grant_types_supported").toString()).contains("client_credentials");
    assertThat(c.get("capabilities").toString()).contains("client-confidential-asymmetric");

    HttpResponse<String> metadata = server.get("metadata");
    assertThat(metadata.statusCode()).isEqualTo(200);
    JsonNode security = TestClient.json(metadata).get("rest").get(0).get("security");
    assertThat(security.get("service").get(0).get("coding").get(0).get("code").asText()).isEqualTo("SMART-on-FHIR");
    JsonNode uris = security.get("extension").get(0);
    assertThat(uris.get("url").asText())
        .isEqualTo("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    assertThat(uris.get("extension").get(0).get("valueUri").asText()).isEqualTo(TestClient.tokenUrl(server));

    HttpResponse<String> keys = server.get("auth/jwks");
    assertThat(keys.statusCode()).isEqualTo(200);
    assertThat(TestClient.json(keys).get("keys").get(0).has("d")).as("no private part").isFalse();
  }
}

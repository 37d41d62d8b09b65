package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.cli.AuthConfig;
import dev.sluice.cli.EdgeConfig;
import dev.sluice.testing.LoadRun;
import dev.sluice.testing.Pem;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code --auth oidc} against a real Keycloak started for this class: tokens with SMART scopes
 * in {@code scope}, app roles mapped by a roles file, the refusals (audience, issuer, expiry),
 * and a rotated signing key picked up without a restart. Keycloak is slow to start, so every
 * test that needs it lives here.
 */
class OidcKeycloakTest {
  @RegisterExtension
  static final Keycloak keycloak = new Keycloak();

  private static TestServer server;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("sluice-oidc");
    Path roles = dir.resolve("roles.json");
    Files.writeString(roles, "{\"roles\": {\"Sluice.PatientReader\": [\"system/Patient.rs\"]}}");
    // a second of clock skew and no pause between key fetches, so expiry and rotation show at once
    EdgeConfig.Oidc oidc = new EdgeConfig.Oidc(keycloak.issuer(), Keycloak.AUDIENCE, Optional.of(roles),
        Duration.ofSeconds(1), Duration.ZERO);
    server = TestServer.start(dir, d -> TestServer.config(d)
        .with(new AuthConfig(AuthMode.OIDC, false, AuthConfig.DEFAULT_TOKEN_LIFETIME))
        .with(new EdgeConfig(oidc, Optional.empty(), Optional.empty())).validate());
    String writer = keycloak.token("reader", "reader-secret", "system/*.cruds");
    assertThat(server.put("Patient/oidc-p1", "{\"resourceType\":\"Patient\",\"id\":\"oidc-p1\"}", auth(writer))
        .statusCode()).isEqualTo(201);
    assertThat(server.put("Observation/oidc-o1", "{\"resourceType\":\"Observation\",\"id\":\"oidc-o1\",\"status\":"
        + "\"final\",\"code\":{\"text\":\"x\"}}", auth(writer)).statusCode()).isEqualTo(201);
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static String[] auth(String token) {
    return new String[] {"Authorization", "Bearer " + token};
  }

  @Test
  void discovery_and_the_capability_statement_name_the_identity_providers_token_endpoint() {
    HttpResponse<String> config = server.get(".well-known/smart-configuration");
    assertThat(config.statusCode()).isEqualTo(200);
    assertThat(TestClient.json(config).get("token_endpoint").asText()).isEqualTo(keycloak.tokenEndpoint());

    HttpResponse<String> metadata = server.get("metadata");
    assertThat(metadata.statusCode()).isEqualTo(200);
    JsonNode security = TestClient.json(metadata).get("rest").get(0).get("security");
    assertThat(security).as("rest.security").isNotNull();
    assertThat(security.get("service").get(0).get("coding").get(0).get("code").asText()).isEqualTo("SMART-on-FHIR");
    JsonNode uris = security.get("extension").get(0);
    assertThat(uris.get("url").asText())
        .isEqualTo("http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris");
    assertThat(uris.get("extension").get(0).get("url").asText()).isEqualTo("token");
    assertThat(uris.get("extension").get(0).get("valueUri").asText()).isEqualTo(keycloak.tokenEndpoint());
    assertThat(security.get("description").asText()).contains(keycloak.issuer());
  }

  @Test
  void a_token_with_smart_scopes_reads_what_they_allow_and_gets_403_elsewhere() throws Exception {
    String token = keycloak.token("reader", "reader-secret", "system/Patient.rs");
    assertThat(SignedJWT.parse(token).getJWTClaimsSet().getStringClaim("scope")).contains("system/Patient.rs");

    assertThat(server.get("Patient/oidc-p1", auth(token)).statusCode()).isEqualTo(200);
    assertThat(server.get("Patient?_id=oidc-p1", auth(token)).statusCode()).isEqualTo(200);
    assertThat(server.get("Observation/oidc-o1", auth(token)).statusCode()).isEqualTo(403);
    assertThat(server.put("Patient/oidc-p1", "{\"resourceType\":\"Patient\",\"id\":\"oidc-p1\"}", auth(token))
        .statusCode()).isEqualTo(403);
  }

  @Test
  void app_roles_are_mapped_to_smart_scopes_by_the_roles_file() throws Exception {
    String token = keycloak.token("role-holder", "role-holder-secret", null);
    var claims = SignedJWT.parse(token).getJWTClaimsSet();
    assertThat(claims.getStringListClaim("roles")).contains("Sluice.PatientReader", "Sluice.Unmapped");
    assertThat(claims.getStringClaim("scope")).doesNotContain("system/");

    assertThat(server.get("Patient/oidc-p1", auth(token)).statusCode()).isEqualTo(200);
    assertThat(server.get("Observation/oidc-o1", auth(token)).statusCode()).isEqualTo(403);
  }

  @Test
  void a_token_for_another_audience_is_refused_with_401() throws Exception {
    String token = keycloak.token("elsewhere", "elsewhere-secret", null);
    assertThat(SignedJWT.parse(token).getJWTClaimsSet().getAudience()).containsExactly("https://other.test/api");

    HttpResponse<String> r = server.get("Patient/oidc-p1", auth(token));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate").orElse("")).contains("invalid_token");
    assertThat(r.body()).contains("aud claim rejected");
  }

  @Test
  void a_token_of_another_issuer_is_refused_with_401() throws Exception {
    // Keycloak names its issuer after the host it is asked at: same keys, another iss
    String token = keycloak.tokenVia("localhost", "reader", "reader-secret", "system/Patient.rs");
    assertThat(SignedJWT.parse(token).getJWTClaimsSet().getIssuer()).isNotEqualTo(keycloak.issuer());

    HttpResponse<String> r = server.get("Patient/oidc-p1", auth(token));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("iss");
  }

  @Test
  void an_expired_token_is_refused_with_401() throws Exception {
    String token = keycloak.token("short-lived", "short-lived-secret", null);
    Instant expires = SignedJWT.parse(token).getJWTClaimsSet().getExpirationTime().toInstant();
    // past its expiry and the server's second of clock skew
    while (Instant.now().isBefore(expires.plusMillis(1500))) {
      Thread.sleep(200);
    }

    HttpResponse<String> r = server.get("Patient/oidc-p1", auth(token));
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("Expired");
  }

  @Test
  void a_token_without_a_signature_is_refused_with_401() throws Exception {
    String token = keycloak.token("reader", "reader-secret", "system/Patient.rs");
    String[] parts = token.split("\\.");
    String unsigned = com.nimbusds.jose.util.Base64URL.encode("{\"alg\":\"none\"}") + "." + parts[1] + ".";

    assertThat(server.get("Patient/oidc-p1", auth(unsigned)).statusCode()).isEqualTo(401);
  }

  @Test
  void sluice_load_gets_its_tokens_from_the_identity_provider_with_a_signed_client_assertion() throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("loader-key").keyUse(KeyUse.SIGNATURE)
        .algorithm(JWSAlgorithm.RS384).generate();
    JsonNode client = keycloak.adminJson("/clients?clientId=loader").get(0);
    ((ObjectNode) client.path("attributes")).put("jwks.string", new JWKSet(key.toPublicJWK()).toString());
    keycloak.adminCall("PUT", "/clients/" + client.path("id").asText(), client.toString());
    Path dir = Files.createTempDirectory("sluice-oidc-load");
    Path pem = dir.resolve("loader.pem");
    Files.writeString(pem, Pem.of("PRIVATE KEY", key.toPrivateKey().getEncoded()));

    LoadRun run = LoadRun.into(server.base(),
        SmartLoadTest.patients(dir, "oidc-load-", 4).toString(), "--client-id", "loader", "--private-key",
        pem.toString(), "--key-id", "loader-key", "--scope", "system/*.cruds");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out()).contains("Loaded 4 of 4 resources");
    String reader = keycloak.token("reader", "reader-secret", "system/Patient.rs");
    assertThat(server.get("Patient/oidc-load-3", auth(reader)).statusCode()).isEqualTo(200);
  }

  @Test
  void a_new_signing_key_is_picked_up_without_a_restart() throws Exception {
    String before = keycloak.token("reader", "reader-secret", "system/Patient.rs");
    assertThat(server.get("Patient/oidc-p1", auth(before)).statusCode()).isEqualTo(200);
    String oldKid = JWSObject.parse(before).getHeader().getKeyID();

    String realmId = keycloak.adminJson("").path("id").asText();
    JsonNode providers = keycloak.adminJson("/components?type=org.keycloak.keys.KeyProvider");
    keycloak.adminCall("POST", "/components", """
        {"name": "rotated", "providerId": "rsa-generated", "providerType": "org.keycloak.keys.KeyProvider",
         "parentId": "%s", "config": {"priority": ["500"], "keySize": ["2048"], "algorithm": ["RS256"],
         "active": ["true"], "enabled": ["true"]}}""".formatted(realmId));
    for (JsonNode p : providers) {
      if (p.path("providerId").asText().equals("rsa-generated")) {
        // passive: it still verifies the tokens it signed, but signs no new ones
        ((ObjectNode) p.path("config")).putArray("active").add("false");
        keycloak.adminCall("PUT", "/components/" + p.path("id").asText(), p.toString());
      }
    }

    String after = keycloak.token("reader", "reader-secret", "system/Patient.rs");
    assertThat(JWSObject.parse(after).getHeader().getKeyID()).isNotEqualTo(oldKid);
    assertThat(server.get("Patient/oidc-p1", auth(after)).statusCode()).isEqualTo(200);
  }
}

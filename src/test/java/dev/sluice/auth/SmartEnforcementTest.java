package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.cli.AuthConfig;
import dev.sluice.store.SigningKeyTable;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --auth smart}: every request of the FHIR API needs a token, and the token's scopes
 * decide each interaction; over real HTTP with tokens from the server's own token endpoint.
 */
class SmartEnforcementTest {
  private static final String PATIENT = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"name\":[{\"family\":\"Lab\"}]}";
  private static final String LAB = "{\"resourceType\":\"Observation\",\"id\":\"lab\",\"status\":\"final\","
      + "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\","
      + "\"code\":\"laboratory\"}]}],\"code\":{\"text\":\"glucose\"},\"subject\":{\"reference\":\"Patient/p1\"}}";
  private static final String VITAL = "{\"resourceType\":\"Observation\",\"id\":\"vital\",\"status\":\"final\","
      + "\"category\":[{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/observation-category\","
      + "\"code\":\"vital-signs\"}]}],\"code\":{\"text\":\"pulse\"},\"subject\":{\"reference\":\"Patient/p1\"}}";

  private static TestServer server;
  private static TestClient client;

  @BeforeAll
  static void start() throws Exception {
    server = TestServer.start(Files.createTempDirectory("sluice-smart-enforce"),
        dir -> TestServer.config(dir).with(AuthConfig.smart()));
    client = TestClient.ec("enforce").registerInline(server, "system/*.cruds system/*.read system/*.write"
        + " system/Observation.rs?category=laboratory");
    String all = bearer("system/*.cruds");
    assertThat(server.put("Patient/p1", PATIENT, "Authorization", all).statusCode()).isEqualTo(201);
    assertThat(server.put("Observation/lab", LAB, "Authorization", all).statusCode()).isEqualTo(201);
    assertThat(server.put("Observation/vital", VITAL, "Authorization", all).statusCode()).isEqualTo(201);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String bearer(String scope) {
    return "Bearer " + client.token(server, scope);
  }

  private static void assertInvalidToken(HttpResponse<String> r, String diagnostics) {
    assertUnauthorized(r, diagnostics);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
        h -> assertThat(h).startsWith("Bearer ").contains("error=\"invalid_token\""));
  }

  private static void assertUnauthorized(HttpResponse<String> r, String diagnostics) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
    JsonNode outcome = TestClient.json(r);
    assertThat(outcome.get("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(outcome.get("issue").get(0).get("diagnostics").asText()).contains(diagnostics);
  }

  private static void assertNoToken(HttpResponse<String> r, String diagnostics) {
    assertUnauthorized(r, diagnostics);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"sluice\"");
  }

  /** A token signed with the server's own current key, with claims of the test's choosing. */
  private static String forged(JWTClaimsSet claims) throws Exception {
    SigningKeyTable.Key stored = new SigningKeyTable(server.app().dataSource()).live(Instant.EPOCH).getFirst();
    return sign(RSAKey.parse(stored.jwk()), claims);
  }

  private static String sign(RSAKey key, JWTClaimsSet claims) throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS384).keyID(key.getKeyID())
        .type(new JOSEObjectType("at+jwt")).build(), claims);
    jwt.sign(new RSASSASigner(key));
    return jwt.serialize();
  }

  private static JWTClaimsSet.Builder claims() throws Exception {
    String issuer = new SigningKeyTable(server.app().dataSource()).installationIssuer();
    return new JWTClaimsSet.Builder().issuer(issuer).audience(issuer).subject("enforce").claim("client_id", "enforce")
        .claim("scope", "system/*.read").expirationTime(Date.from(Instant.now().plus(Duration.ofMinutes(5))))
        .jwtID(UUID.randomUUID().toString());
  }

  @Test
  void a_request_without_a_token_is_401_with_www_authenticate_and_an_outcome() {
    // RFC 6750 section 3.1: a request without any token, or with another scheme, gets no error code
    assertNoToken(server.get("Patient/p1"), "needs an access token");
    assertNoToken(server.get("Patient/p1", "Authorization", "Basic dXNlcjpwdw=="), "Bearer");
  }

  @Test
  void probes_the_capability_statement_and_discovery_need_no_token() {
    assertThat(server.get("/health").statusCode()).isEqualTo(200);
    assertThat(server.get("/metrics").statusCode()).isEqualTo(200);
    assertThat(server.get("metadata").statusCode()).isEqualTo(200);
    assertThat(server.get(".well-known/smart-configuration").statusCode()).isEqualTo(200);
  }

  @Test
  void a_token_with_a_broken_signature_is_401() {
    String token = client.token(server, "system/*.read");
    String broken = token.substring(0, token.length() - 4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
    assertInvalidToken(server.get("Patient/p1", "Authorization", "Bearer " + broken), "signature");
    assertInvalidToken(server.get("Patient/p1", "Authorization", "Bearer not-a-jwt"), "not a signed JWT");
  }

  @Test
  void an_expired_access_token_is_401() throws Exception {
    String expired = forged(claims().expirationTime(Date.from(Instant.now().minus(Duration.ofMinutes(1)))).build());
    assertInvalidToken(server.get("Patient/p1", "Authorization", "Bearer " + expired), "expired");
  }

  @Test
  void a_token_of_another_issuer_is_401_whether_signed_by_our_key_or_its_own() throws Exception {
    String otherIssuer = forged(claims().issuer("https://other.example/fhir").build());
    assertInvalidToken(server.get("Patient/p1", "Authorization", "Bearer " + otherIssuer), "issued by");
    String otherAudience = forged(claims().audience("https://other.example/fhir").build());
    assertInvalidToken(server.get("Patient/p1", "Authorization", "Bearer " + otherAudience), "meant for");
    RSAKey foreign = new RSAKeyGenerator(2048).keyID(UUID.randomUUID().toString()).generate();
    String foreignKey = sign(foreign, claims().build());
    assertInvalidToken(server.get("Patient/p1", "Authorization", "Bearer " + foreignKey), "not signed by a key");
  }

  @Test
  void v1_read_allows_reads_and_searches_but_no_writes() {
    String read = bearer("system/Patient.read");
    assertThat(server.get("Patient/p1", "Authorization", read).statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/p1/_history/1", "Authorization", read).statusCode()).isEqualTo(200);
    assertThat(server.get("Patient/p1/_history", "Authorization", read).statusCode()).isEqualTo(200);
    assertThat(server.get("Patient?family=Lab", "Authorization", read).statusCode()).isEqualTo(200);
    assertThat(server.get("Observation/lab", "Authorization", read).statusCode()).isEqualTo(403);
    HttpResponse<String> create = server.post("Patient", "{\"resourceType\":\"Patient\"}", "Authorization", read);
    assertThat(create.statusCode()).isEqualTo(403);
    assertThat(create.body()).contains("forbidden", "system/Patient.read");
    assertThat(server.delete("Patient/p1", "Authorization", read).statusCode()).isEqualTo(403);
    assertThat(server.get("_history", "Authorization", read).statusCode()).isEqualTo(403);
  }

  @Test
  void v1_write_allows_writes_but_no_reads() {
    String write = bearer("system/Patient.write");
    assertThat(server.post("Patient", "{\"resourceType\":\"Patient\"}", "Authorization", write).statusCode())
        .isEqualTo(201);
    assertThat(server.put("Patient/w1", "{\"resourceType\":\"Patient\",\"id\":\"w1\"}", "Authorization", write)
        .statusCode()).isEqualTo(201);
    assertThat(server.delete("Patient/w1", "Authorization", write).statusCode()).isEqualTo(204);
    assertThat(server.get("Patient/p1", "Authorization", write).statusCode()).isEqualTo(403);
    assertThat(server.post("Observation", "{\"resourceType\":\"Observation\",\"status\":\"final\","
        + "\"code\":{\"text\":\"x\"}}", "Authorization", write).statusCode()).isEqualTo(403);
  }

  @Test
  void v2_letters_decide_per_type_and_per_interaction() {
    String rs = bearer("system/Observation.rs system/Patient.c");
    assertThat(server.get("Observation/vital", "Authorization", rs).statusCode()).isEqualTo(200);
    assertThat(server.get("Observation?status=final", "Authorization", rs).statusCode()).isEqualTo(200);
    assertThat(server.put("Observation/vital", VITAL, "Authorization", rs).statusCode()).isEqualTo(403);
    assertThat(server.get("Patient/p1", "Authorization", rs).statusCode()).isEqualTo(403);
    assertThat(server.post("Patient", "{\"resourceType\":\"Patient\"}", "Authorization", rs).statusCode())
        .isEqualTo(201);
    String readOnly = bearer("system/Observation.r");
    assertThat(server.get("Observation/vital", "Authorization", readOnly).statusCode()).isEqualTo(200);
    assertThat(server.get("Observation?status=final", "Authorization", readOnly).statusCode()).isEqualTo(403);
  }

  @Test
  void a_search_constrained_scope_narrows_searches_and_reads_and_never_allows_export() {
    String lab = bearer("system/Observation.rs?category=laboratory");
    HttpResponse<String> search = server.get("Observation", "Authorization", lab);
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    assertThat(ids(search)).containsExactly("Observation/lab");
    assertThat(server.get("Observation/lab", "Authorization", lab).statusCode()).isEqualTo(200);
    assertThat(server.get("Observation/vital", "Authorization", lab).statusCode()).isEqualTo(403);
    assertThat(server.get("Observation/lab/_history/1", "Authorization", lab).statusCode()).isEqualTo(403);
    HttpResponse<String> export = server.get("$export?_type=Observation", "Authorization", lab,
        "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(export.statusCode()).as(export.body()).isEqualTo(403);
  }

  @Test
  void include_and_revinclude_never_return_a_type_the_token_cannot_read() {
    String obs = bearer("system/Observation.rs");
    assertThat(ids(server.get("Observation?_id=lab&_include=Observation:subject", "Authorization", obs)))
        .containsExactly("Observation/lab");
    String both = bearer("system/Observation.rs system/Patient.rs");
    assertThat(ids(server.get("Observation?_id=lab&_include=Observation:subject", "Authorization", both)))
        .containsExactly("Observation/lab", "Patient/p1");
    String patients = bearer("system/Patient.rs");
    assertThat(ids(server.get("Patient?_id=p1&_revinclude=Observation:subject", "Authorization", patients)))
        .containsExactly("Patient/p1");
  }

  @Test
  void chains_and_has_need_search_on_the_types_they_look_into() {
    String obs = bearer("system/Observation.rs");
    assertThat(server.get("Observation?subject:Patient.family=Lab", "Authorization", obs).statusCode())
        .isEqualTo(403);
    assertThat(server.get("Observation?subject.family=Lab", "Authorization", obs).statusCode()).isEqualTo(403);
    String patients = bearer("system/Patient.rs");
    assertThat(server.get("Patient?_has:Observation:subject:status=final", "Authorization", patients).statusCode())
        .isEqualTo(403);
    String both = bearer("system/Observation.rs system/Patient.rs");
    assertThat(ids(server.get("Observation?subject:Patient.family=Lab&_id=lab", "Authorization", both)))
        .containsExactly("Observation/lab");
  }

  @Test
  void a_batch_answers_each_entry_by_its_own_scope_and_a_transaction_is_refused_whole() {
    String read = bearer("system/Patient.read");
    String entries = "[{\"request\":{\"method\":\"GET\",\"url\":\"Patient/p1\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\"},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}]";
    HttpResponse<String> batch = server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":"
        + entries + "}", "Authorization", read);
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    JsonNode responses = TestClient.json(batch).get("entry");
    assertThat(responses.get(0).get("response").get("status").asText()).startsWith("200");
    assertThat(responses.get(1).get("response").get("status").asText()).startsWith("403");
    HttpResponse<String> transaction = server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\","
        + "\"entry\":" + entries + "}", "Authorization", read);
    assertThat(transaction.statusCode()).as(transaction.body()).isEqualTo(403);
  }

  @Test
  void export_of_a_type_beyond_the_scopes_is_403_and_patient_level_needs_patient() {
    String[] async = {"Accept", "application/fhir+json", "Prefer", "respond-async"};
    String patients = bearer("system/Patient.read");
    HttpResponse<String> r = server.get("$export?_type=Patient,Observation", with(async, patients));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
    assertThat(r.body()).contains("Observation");
    String observations = bearer("system/Observation.read");
    assertThat(server.get("Patient/$export", with(async, observations)).statusCode()).isEqualTo(403);
  }

  @Test
  void export_without_type_holds_only_the_types_the_scopes_allow() {
    String scoped = bearer("system/Patient.read system/Observation.rs?category=laboratory");
    HttpResponse<String> r = server.get("$export",
        "Authorization", scoped, "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode manifest = TestClient.awaitManifest(server, r.headers().firstValue("Content-Location").orElseThrow(), scoped);
    List<String> types = new ArrayList<>();
    manifest.get("output").forEach(f -> types.add(f.get("type").asText()));
    assertThat(types).containsExactly("Patient");
    assertThat(manifest.get("requiresAccessToken").asBoolean()).isTrue();
  }

  static String[] with(String[] headers, String authorization) {
    String[] h = java.util.Arrays.copyOf(headers, headers.length + 2);
    h[headers.length] = "Authorization";
    h[headers.length + 1] = authorization;
    return h;
  }

  private static List<String> ids(HttpResponse<String> r) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> ids = new ArrayList<>();
    JsonNode entries = TestClient.json(r).get("entry");
    if (entries != null) {
      entries.forEach(e -> ids.add(e.get("resource").get("resourceType").asText() + "/"
          + e.get("resource").get("id").asText()));
    }
    return ids;
  }
}

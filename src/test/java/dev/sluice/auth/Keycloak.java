package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Keycloak for the test class: the distribution Maven unpacked into the git-ignored
 * {@code .tools/} (pom.xml, {@code unpack-keycloak}), started in dev mode on a free port before
 * the class with a fresh realm ({@code keycloak-realm.json}: clients using client
 * credentials, SMART scopes as client scopes, app roles in a {@code roles} claim as Entra ID
 * issues them) and stopped after it. Starting takes a minute or more on a small machine, so
 * few test classes should need it.
 */
final class Keycloak implements BeforeAllCallback, AfterAllCallback {
  static final String REALM = "sluice";
  /** The audience the realm's tokens carry (mapper in keycloak-realm.json). */
  static final String AUDIENCE = "https://sluice.test/fhir";
  private static final String ADMIN = "admin";
  private static final Duration START = Duration.ofMinutes(8);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private Process process;
  private Path log;
  private int port;

  String issuer() {
    return root() + "/realms/" + REALM;
  }

  String tokenEndpoint() {
    return issuer() + "/protocol/openid-connect/token";
  }

  private String root() {
    return "http://127.0.0.1:" + port;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String home = System.getProperty("sluice.keycloakHome");
    if (home == null || !Files.isExecutable(Path.of(home, "bin/kc.sh"))) {
      throw new IllegalStateException("No Keycloak at " + home + ": run the tests through Maven (./run-tests),"
          + " which unpacks it into .tools/");
    }
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    log = Files.createTempFile("keycloak", ".log");
    ProcessBuilder pb = new ProcessBuilder(Path.of(home, "bin/kc.sh").toString(), "start-dev",
        "--http-host=127.0.0.1", "--http-port=" + port, "--log-level=warn")
        .redirectErrorStream(true).redirectOutput(log.toFile());
    // the test JVM is a JDK 21+, which Keycloak needs; the machine's default java may be older
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    pb.environment().put("JAVA_OPTS_KC_HEAP", "-Xms64m -Xmx512m");
    // used only when the master realm is created, on the first start on this data
    pb.environment().put("KC_BOOTSTRAP_ADMIN_USERNAME", ADMIN);
    pb.environment().put("KC_BOOTSTRAP_ADMIN_PASSWORD", ADMIN);
    process = pb.start();
    awaitStarted();
    String admin = adminToken();
    HttpResponse<String> old = send(HttpRequest.newBuilder(URI.create(root() + "/admin/realms/" + REALM)).DELETE(), admin);
    if (old.statusCode() != 204 && old.statusCode() != 404) {
      throw new IllegalStateException("cannot delete the old realm: " + old.statusCode() + " " + old.body());
    }
    String realm = new String(Keycloak.class.getResourceAsStream("/keycloak-realm.json").readAllBytes(),
        StandardCharsets.UTF_8);
    adminCall("POST", "", realm);
  }

  private void awaitStarted() throws Exception {
    long deadline = System.nanoTime() + START.toNanos();
    while (true) {
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create(root() + "/realms/master"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("Keycloak did not start:\n" + Files.readString(log));
      }
      Thread.sleep(500);
    }
  }

  private String adminToken() throws Exception {
    return tokenFrom(root() + "/realms/master/protocol/openid-connect/token",
        Map.of("grant_type", "password", "client_id", "admin-cli", "username", ADMIN, "password", ADMIN));
  }

  /**
   * A call of the realm's admin REST API ({@code /admin/realms/sluice} + path).
   *
   * @return the answer's body (JSON or empty)
   */
  String adminCall(String method, String path, String body) throws Exception {
    String url = root() + "/admin/realms" + (path.isEmpty() && method.equals("POST") ? "" : "/" + REALM + path);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).method(method,
        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    HttpResponse<String> r = send(b, adminToken());
    if (r.statusCode() >= 300) {
      throw new IllegalStateException(method + " " + url + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  JsonNode adminJson(String path) throws Exception {
    return JSON.readTree(adminCall("GET", path, null));
  }

  /** An access token for a client of the realm, with client credentials (a secret). */
  String token(String clientId, String secret, String scope) throws Exception {
    return tokenVia("127.0.0.1", clientId, secret, scope);
  }

  /** As {@link #token}, asked at another name of this machine (Keycloak's issuer follows it). */
  String tokenVia(String host, String clientId, String secret, String scope) throws Exception {
    String endpoint = "http://" + host + ":" + port + "/realms/" + REALM + "/protocol/openid-connect/token";
    return tokenFrom(endpoint, scope == null
        ? Map.of("grant_type", "client_credentials", "client_id", clientId, "client_secret", secret)
        : Map.of("grant_type", "client_credentials", "client_id", clientId, "client_secret", secret, "scope", scope));
  }

  private String tokenFrom(String url, Map<String, String> form) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .POST(HttpRequest.BodyPublishers.ofString(form(form))).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("token request to " + url + " answered " + r.statusCode() + ": " + r.body());
    }
    return JSON.readTree(r.body()).path("access_token").asText();
  }

  private HttpResponse<String> send(HttpRequest.Builder request, String token) throws Exception {
    return http.send(request.header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String form(Map<String, String> fields) {
    return fields.entrySet().stream()
        .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(),
            StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (process != null) {
      process.descendants().forEach(ProcessHandle::destroy);
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
      process = null;
    }
  }
}

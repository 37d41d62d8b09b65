package dev.sluice.export;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for Microsoft Entra ID's token endpoint, over HTTPS, for one tenant and one client
 * secret: it answers MSAL's instance and tenant discovery and issues, for the client
 * credentials grant, a JWT with the claims Azurite's {@code --oauth basic} checks (issuer,
 * audience, lifetime) and those a user delegation key is derived from ({@code oid}, {@code tid}).
 * Azurite does not check signatures, so the token is not signed.
 */
final class EntraIdTokens implements AutoCloseable {
  static final String TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  static final String OBJECT_ID = "4c3a1b7e-5d2f-4e8a-9b6c-0d1e2f3a4b5c";

  private final HttpsServer server;
  private final String clientId;
  private final String secret;
  private final AtomicInteger issued = new AtomicInteger();
  private final AtomicInteger refused = new AtomicInteger();

  private EntraIdTokens(HttpsServer server, String clientId, String secret) {
    this.server = server;
    this.clientId = clientId;
    this.secret = secret;
  }

  static EntraIdTokens start(SSLContext tls, String clientId, String secret) throws IOException {
    HttpsServer server = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setHttpsConfigurator(new HttpsConfigurator(tls));
    EntraIdTokens tokens = new EntraIdTokens(server, clientId, secret);
    server.createContext("/", tokens::handle);
    server.start();
    return tokens;
  }

  /** The authority host (AZURE_AUTHORITY_HOST). */
  String authorityHost() {
    return "https://127.0.0.1:" + server.getAddress().getPort() + "/";
  }

  int issued() {
    return issued.get();
  }

  int refused() {
    return refused.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String host = "127.0.0.1:" + server.getAddress().getPort();
    String authority = "https://" + host + "/" + TENANT;
    try (exchange) {
      if (path.endsWith("/discovery/instance")) {
        send(exchange, 200, "{\"tenant_discovery_endpoint\":\"" + authority + "/v2.0/.well-known/openid-configuration\","
            + "\"api-version\":\"1.1\",\"metadata\":[{\"preferred_network\":\"" + host + "\",\"preferred_cache\":\""
            + host + "\",\"aliases\":[\"" + host + "\"]}]}");
      } else if (path.endsWith("/.well-known/openid-configuration")) {
        send(exchange, 200, "{\"token_endpoint\":\"" + authority + "/oauth2/v2.0/token\",\"authorization_endpoint\":\""
            + authority + "/oauth2/v2.0/authorize\",\"issuer\":\"" + authority + "/v2.0\"}");
      } else if (path.endsWith("/oauth2/v2.0/token") && exchange.getRequestMethod().equals("POST")) {
        Map<String, String> form = form(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        if (!clientId.equals(form.get("client_id")) || !secret.equals(form.get("client_secret"))
            || !"client_credentials".equals(form.get("grant_type"))) {
          refused.incrementAndGet();
          send(exchange, 401, "{\"error\":\"invalid_client\",\"error_description\":\"unknown client or secret\"}");
          return;
        }
        issued.incrementAndGet();
        send(exchange, 200, "{\"token_type\":\"Bearer\",\"expires_in\":3600,\"ext_expires_in\":3600,"
            + "\"access_token\":\"" + jwt() + "\"}");
      } else {
        send(exchange, 404, "{\"error\":\"not_found\"}");
      }
    }
  }

  private String jwt() {
    long now = Instant.now().getEpochSecond();
    String claims = "{\"aud\":\"https://storage.azure.com\",\"iss\":\"https://sts.windows.net/" + TENANT + "/\","
        + "\"iat\":" + (now - 60) + ",\"nbf\":" + (now - 60) + ",\"exp\":" + (now + 3600) + ",\"oid\":\"" + OBJECT_ID
        + "\",\"tid\":\"" + TENANT + "\",\"appid\":\"" + clientId + "\"}";
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    return b64.encodeToString("{\"alg\":\"RS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8)) + "."
        + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8)) + "." + b64.encodeToString(new byte[32]);
  }

  private static Map<String, String> form(String body) {
    Map<String, String> form = new HashMap<>();
    for (String pair : body.split("&")) {
      int eq = pair.indexOf('=');
      if (eq > 0) {
        form.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    return form;
  }

  private static void send(HttpExchange exchange, int status, String json) throws IOException {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, body.length);
    exchange.getResponseBody().write(body);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

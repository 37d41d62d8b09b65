package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code oidc} mode learns from the identity provider's discovery document
 * ({@code [issuer]/.well-known/openid-configuration}, OpenID Connect Discovery 1.0).
 *
 * @param issuer the {@code iss} its tokens carry, exactly as the document states it
 * @param jwksUri where its signing keys are published
 * @param tokenEndpoint where clients get tokens, or null (published in Sluice's smart-configuration)
 * @param authMethods its {@code token_endpoint_auth_methods_supported}
 * @param signingAlgorithms its {@code token_endpoint_auth_signing_alg_values_supported}
 */
public record OidcProvider(String issuer, URI jwksUri, URI tokenEndpoint, List<String> authMethods,
    List<String> signingAlgorithms) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(15);

  /**
   * Reads the discovery document of an issuer.
   *
   * @throws IllegalArgumentException when it cannot be read, lacks {@code jwks_uri}, or names
   *     another issuer (a message for the operator)
   */
  public static OidcProvider discover(HttpClient http, String issuer) {
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    URI url = URI.create(base + "/.well-known/openid-configuration");
    JsonNode doc;
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(url).timeout(TIMEOUT)
          .header("Accept", "application/json").GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalArgumentException("--oidc-issuer: " + url + " answered " + r.statusCode());
      }
      doc = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new IllegalArgumentException("--oidc-issuer: cannot read " + url + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + url, e);
    }
    String stated = doc.path("issuer").asText("");
    // OpenID Connect Discovery 1.0, section 4.3: the document must name the issuer it was fetched for
    if (!stated.equals(issuer)) {
      throw new IllegalArgumentException("--oidc-issuer: " + url + " names the issuer '" + stated + "', not '" + issuer
          + "'; give --oidc-issuer exactly as the identity provider states it");
    }
    String jwks = doc.path("jwks_uri").asText("");
    if (jwks.isEmpty()) {
      throw new IllegalArgumentException("--oidc-issuer: " + url + " has no jwks_uri");
    }
    String token = doc.path("token_endpoint").asText("");
    return new OidcProvider(stated, URI.create(jwks), token.isEmpty() ? null : URI.create(token),
        texts(doc.path("token_endpoint_auth_methods_supported")),
        texts(doc.path("token_endpoint_auth_signing_alg_values_supported")));
  }

  private static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(n -> out.add(n.asText()));
    return List.copyOf(out);
  }
}

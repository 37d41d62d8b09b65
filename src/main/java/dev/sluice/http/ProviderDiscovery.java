package dev.sluice.http;

import dev.sluice.auth.OidcProvider;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --auth oidc}: {@code [base]/.well-known/smart-configuration} naming the identity
 * provider's token endpoint, so that SMART clients (such as {@code sluice load}) find where to
 * get tokens for this server.
 */
final class ProviderDiscovery {
  private final OidcProvider provider;

  ProviderDiscovery(OidcProvider provider) {
    this.provider = provider;
  }

  void configuration(Context ctx) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("issuer", provider.issuer());
    body.put("jwks_uri", provider.jwksUri().toString());
    if (provider.tokenEndpoint() != null) {
      body.put("token_endpoint", provider.tokenEndpoint().toString());
    }
    body.put("token_endpoint_auth_methods_supported", provider.authMethods());
    body.put("token_endpoint_auth_signing_alg_values_supported", provider.signingAlgorithms());
    body.put("grant_types_supported", List.of("client_credentials"));
    body.put("capabilities", provider.authMethods().contains("private_key_jwt")
        ? List.of("client-confidential-asymmetric", "permission-v1", "permission-v2")
        : List.of("permission-v1", "permission-v2"));
    ctx.header("Cache-Control", "max-age=300");
    ctx.status(200).json(body);
  }
}

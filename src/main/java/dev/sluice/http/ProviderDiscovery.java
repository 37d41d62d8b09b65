package dev.sluice.http;

import dev.sluice.auth.OidcProvider;
import io.javalin.http.Context;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --auth oidc}: {@code [base]/.well-known/smart-configuration} and the
 * CapabilityStatement's {@code rest.security} naming the identity provider's token endpoint, so
 * that SMART clients (such as {@code sluice load}) and test kits find where to get tokens for
 * this server.
 */
final class ProviderDiscovery {
  private final OidcProvider provider;

  ProviderDiscovery(OidcProvider provider) {
    this.provider = provider;
  }

  /** {@code rest.security}: SMART-on-FHIR, the provider's token endpoint in {@code oauth-uris} when it has one. */
  void declare(CapabilityStatement cs) {
    var security = cs.getRestFirstRep().getSecurity();
    security.setCors(false);
    security.addService(new CodeableConcept().addCoding(new Coding(
        "http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR")));
    security.setDescription("Access tokens issued by " + provider.issuer()
        + (provider.tokenEndpoint() == null ? "" : " at " + provider.tokenEndpoint())
        + ", with SMART system scopes (or app roles mapped to them); see [base]/.well-known/smart-configuration");
    if (provider.tokenEndpoint() != null) {
      Extension uris = new Extension(SmartRoutes.OAUTH_URIS);
      uris.addExtension(new Extension("token", new UriType(provider.tokenEndpoint().toString())));
      security.addExtension(uris);
    }
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

package dev.sluice.http;

import dev.sluice.auth.OAuthError;
import dev.sluice.auth.SmartAuthority;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.UriType;

/**
 * {@code --auth smart}: the token endpoint of SMART Backend Services, the JWK Set of the keys
 * that sign its tokens, the discovery document, and the CapabilityStatement's
 * {@code rest.security}. All open: they are how a client gets a token.
 */
final class SmartRoutes {
  static final String TOKEN_PATH = "/auth/token";
  static final String JWKS_PATH = "/auth/jwks";
  static final String OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

  private final SmartAuthority authority;
  private final BaseUrl baseUrl;

  SmartRoutes(SmartAuthority authority, BaseUrl baseUrl) {
    this.authority = authority;
    this.baseUrl = baseUrl;
  }

  /** {@code POST [base]/auth/token}: RFC 6749 JSON either way, never an OperationOutcome. */
  void token(Context ctx) {
    ctx.header("Cache-Control", "no-store");
    ctx.header("Pragma", "no-cache");
    try {
      SmartAuthority.TokenResponse t = authority.token(form(ctx), baseUrl.of(ctx) + TOKEN_PATH);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("access_token", t.accessToken());
      body.put("token_type", "bearer");
      body.put("expires_in", t.expiresIn());
      body.put("scope", t.scope());
      ctx.status(200).json(body);
    } catch (OAuthError e) {
      ctx.status(e.status()).json(Map.of("error", e.error(), "error_description", e.getMessage()));
    }
  }

  private static Map<String, String> form(Context ctx) {
    String type = ctx.header("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      throw OAuthError.invalidRequest("The token request must be a form (Content-Type:"
          + " application/x-www-form-urlencoded), got " + (type == null ? "no Content-Type" : type));
    }
    Map<String, String> form = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> e : ctx.formParamMap().entrySet()) {
      if (e.getValue().size() != 1) {
        throw OAuthError.invalidRequest("Parameter " + e.getKey() + " is given " + e.getValue().size() + " times");
      }
      form.put(e.getKey(), e.getValue().getFirst());
    }
    return form;
  }

  /** {@code GET [base]/auth/jwks}: the public keys that verify this server's access tokens. */
  void jwks(Context ctx) {
    ctx.header("Cache-Control", "max-age=60");
    ctx.contentType("application/jwk-set+json").result(authority.keys().publicKeys().toString(true));
  }

  /** {@code GET [base]/.well-known/smart-configuration} (SMART App Launch 2, section "Conformance"). */
  void configuration(Context ctx) {
    String base = baseUrl.of(ctx);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("issuer", authority.issuer());
    body.put("jwks_uri", base + JWKS_PATH);
    body.put("token_endpoint", base + TOKEN_PATH);
    body.put("token_endpoint_auth_methods_supported", List.of("private_key_jwt"));
    body.put("token_endpoint_auth_signing_alg_values_supported", List.of("RS384", "ES384"));
    body.put("grant_types_supported", List.of("client_credentials"));
    // any system scope of v1 or v2 on any type, constrained ones too; these are the common ones
    body.put("scopes_supported", List.of("system/*.read", "system/*.write", "system/*.rs", "system/*.cruds"));
    body.put("response_types_supported", List.of("token"));
    body.put("capabilities", List.of("client-confidential-asymmetric", "permission-v1", "permission-v2"));
    ctx.header("Cache-Control", "max-age=300");
    ctx.status(200).json(body);
  }

  /** {@code rest.security}: SMART-on-FHIR with the token endpoint in the {@code oauth-uris} extension. */
  static void declare(CapabilityStatement cs, String base) {
    var security = cs.getRestFirstRep().getSecurity();
    security.setCors(false);
    security.addService(new CodeableConcept().addCoding(new Coding(
        "http://terminology.hl7.org/CodeSystem/restful-security-service", "SMART-on-FHIR", "SMART-on-FHIR")));
    security.setDescription("SMART Backend Services (client-confidential-asymmetric): get a token at "
        + base + TOKEN_PATH + " with a client assertion signed RS384 or ES384; see " + base
        + "/.well-known/smart-configuration");
    Extension uris = new Extension(OAUTH_URIS);
    uris.addExtension(new Extension("token", new UriType(base + TOKEN_PATH)));
    security.addExtension(uris);
  }
}

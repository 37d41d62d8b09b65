package dev.sluice.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SMART scopes that an identity provider's application roles stand for ({@code roles}
 * claim, as Microsoft Entra ID issues app roles), read from the file of
 * {@code --oidc-roles} (docs/security.md):
 *
 * <pre>{"roles": {"Sluice.Reader": ["system/*.rs"], "Sluice.Exporter": ["system/Patient.read", "system/Observation.read"]}}</pre>
 *
 * A role the file does not name grants nothing.
 */
public final class RoleScopes {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Map<String, List<String>> scopes;

  private RoleScopes(Map<String, List<String>> scopes) {
    this.scopes = scopes;
  }

  /** No file: roles grant nothing. */
  public static RoleScopes none() {
    return new RoleScopes(Map.of());
  }

  /** @throws IllegalArgumentException naming what is wrong in the file */
  public static RoleScopes read(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new IllegalArgumentException("--oidc-roles: cannot read " + file + ": " + e.getMessage(), e);
    }
    JsonNode roles = root == null ? null : root.get("roles");
    if (roles == null || !roles.isObject()) {
      throw new IllegalArgumentException("--oidc-roles: " + file
          + " must be a JSON object {\"roles\": {\"<role>\": [\"<SMART scope>\", ...]}}");
    }
    Map<String, List<String>> scopes = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> role : roles.properties()) {
      if (!role.getValue().isArray()) {
        throw new IllegalArgumentException("--oidc-roles: " + file + ": the role '" + role.getKey()
            + "' must map to an array of SMART scopes");
      }
      List<String> list = new ArrayList<>();
      for (JsonNode s : role.getValue()) {
        if (!s.isTextual() || Scope.parse(s.asText()).isEmpty()) {
          throw new IllegalArgumentException("--oidc-roles: " + file + ": the role '" + role.getKey() + "' maps to "
              + s + ", which is not a SMART scope such as system/Patient.rs or system/*.read");
        }
        list.add(s.asText());
      }
      scopes.put(role.getKey(), List.copyOf(list));
    }
    return new RoleScopes(Map.copyOf(scopes));
  }

  /** The scopes the roles stand for, each once, in the order of the roles. */
  public List<String> scopesOf(Collection<String> roles) {
    Set<String> out = new LinkedHashSet<>();
    for (String role : roles) {
      out.addAll(scopes.getOrDefault(role, List.of()));
    }
    return List.copyOf(out);
  }
}

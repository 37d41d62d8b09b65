package dev.sluice.store;

import java.time.Instant;
import java.util.Objects;

/**
 * A registered SMART client ({@code auth_client}).
 *
 * @param jwksUrl where its keys are published, or null when {@code jwks} holds them
 * @param jwks its JWK Set as JSON, or null when {@code jwksUrl} is given
 * @param scope the scopes it may be granted, space-separated
 */
public record ClientRow(String id, String jwksUrl, String jwks, String scope, Instant createdAt) {
  public ClientRow {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(scope, "scope");
    if ((jwksUrl == null) == (jwks == null)) {
      throw new IllegalArgumentException("a client has its keys at a URL or inline, exactly one of them");
    }
  }
}

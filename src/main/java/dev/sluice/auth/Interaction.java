package dev.sluice.auth;

import java.util.EnumSet;
import java.util.Set;

/**
 * What a request does to a resource type, as far as authorization cares. Each interaction
 * needs the SMART permissions listed here on the type; SMART v1's {@code read} grants
 * {@code r} and {@code s}, {@code write} grants {@code c}, {@code u} and {@code d}.
 */
public enum Interaction {
  READ(Permission.READ),
  VREAD(Permission.READ),
  HISTORY(Permission.READ),
  SEARCH(Permission.SEARCH),
  CREATE(Permission.CREATE),
  UPDATE(Permission.UPDATE),
  DELETE(Permission.DELETE),
  /** Bulk export of a type: read and search, and never through a search-constrained scope. */
  EXPORT(Permission.READ, Permission.SEARCH);

  private final Set<Permission> needs;

  Interaction(Permission first, Permission... rest) {
    this.needs = EnumSet.of(first, rest);
  }

  public Set<Permission> needs() {
    return needs;
  }
}

package dev.sluice.store;

import dev.sluice.fhir.ParamKind;

/**
 * Where {@link SearchSql} reads the index rows and the last-updated time of the resource it
 * judges. Criteria about <em>other</em> resources (the targets of a chain, the sources of
 * {@code _has}) always read the index of current versions. The names are ours, never input.
 */
public enum IndexTables {
  /** The search index tables (V2), which hold each resource's current version. */
  CURRENT("idx_", "resource"),
  /**
   * Rows computed on the fly for versions that are no longer current (see
   * {@link PastVersionSearch}), as common table expressions of the same shape.
   */
  PAST("past_", "past_resource");

  private final String prefix;
  private final String resource;

  IndexTables(String prefix, String resource) {
    this.prefix = prefix;
    this.resource = resource;
  }

  /** The table (or expression) of one parameter kind, with the columns of {@code idx_<kind>}. */
  String table(ParamKind kind) {
    return prefix + switch (kind) {
      case TOKEN -> "token";
      case STRING -> "string";
      case DATE -> "date";
      case NUMBER -> "number";
      case QUANTITY -> "quantity";
      case REFERENCE -> "reference";
      case URI -> "uri";
      case COMPOSITE, SPECIAL -> throw new IllegalArgumentException(kind + " has no index table of its own");
    };
  }

  /** A relation with {@code pk}, {@code last_updated} and {@code deleted} of the judged versions. */
  String resource() {
    return resource;
  }
}

package dev.sluice.auth;

import java.util.List;

/** The answer of {@link Caller#access}: may the caller do an interaction on a type, and on what part of it. */
public sealed interface Access {
  /** Not at all. */
  record Denied(String reason) implements Access {}

  /** On every resource of the type. */
  record Whole() implements Access {}

  /**
   * Only on the resources that match one of these search constraints (SMART v2 scopes such as
   * {@code system/Observation.rs?category=laboratory}), each a query string.
   */
  record Narrowed(List<String> constraints) implements Access {
    public Narrowed {
      constraints = List.copyOf(constraints);
      if (constraints.isEmpty()) {
        throw new IllegalArgumentException("a narrowed access needs at least one constraint");
      }
    }
  }
}

package dev.sluice.fhir;

import java.util.Objects;

/**
 * One OperationOutcome issue: what went wrong, in FHIR's terms.
 *
 * @param severity   FHIR issue severity: fatal, error, warning, information
 * @param code       FHIR issue type code (invalid, not-found, conflict, ...)
 * @param diagnostics words a user can act on
 * @param expression the offending parameter or element, or null
 */
public record Issue(String severity, String code, String diagnostics, String expression) {
  public Issue {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(diagnostics, "diagnostics");
  }

  public static Issue error(String code, String diagnostics) {
    return new Issue("error", code, diagnostics, null);
  }

  public static Issue error(String code, String diagnostics, String expression) {
    return new Issue("error", code, diagnostics, expression);
  }

  public static Issue warning(String code, String diagnostics, String expression) {
    return new Issue("warning", code, diagnostics, expression);
  }

  public static Issue information(String diagnostics) {
    return new Issue("information", "informational", diagnostics, null);
  }
}

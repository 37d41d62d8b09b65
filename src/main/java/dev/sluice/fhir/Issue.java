package dev.sluice.fhir;

import java.util.Objects;

/**
 * One OperationOutcome issue: what went wrong, in FHIR's terms.
 *
 * @param severity    FHIR issue severity
 * @param code        FHIR issue type
 * @param diagnostics words a user can act on
 * @param expression  the offending parameter or element, or null
 * @param message     the stable code of this message, or null for messages that have none yet
 */
public record Issue(Severity severity, Code code, String diagnostics, String expression, MessageCode message) {
  public Issue {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(diagnostics, "diagnostics");
  }

  /** FHIR R4 {@code IssueSeverity}. */
  public enum Severity {
    FATAL("fatal"), ERROR("error"), WARNING("warning"), INFORMATION("information");

    private final String fhirCode;

    Severity(String fhirCode) {
      this.fhirCode = fhirCode;
    }

    public String fhirCode() {
      return fhirCode;
    }
  }

  /** FHIR R4 {@code IssueType} (http://hl7.org/fhir/R4/valueset-issue-type.html). */
  public enum Code {
    INVALID("invalid"), STRUCTURE("structure"), REQUIRED("required"), VALUE("value"), INVARIANT("invariant"),
    SECURITY("security"), LOGIN("login"), UNKNOWN("unknown"), EXPIRED("expired"), FORBIDDEN("forbidden"),
    SUPPRESSED("suppressed"), PROCESSING("processing"), NOT_SUPPORTED("not-supported"), DUPLICATE("duplicate"),
    MULTIPLE_MATCHES("multiple-matches"), NOT_FOUND("not-found"), DELETED("deleted"), TOO_LONG("too-long"),
    CODE_INVALID("code-invalid"), EXTENSION("extension"), TOO_COSTLY("too-costly"), BUSINESS_RULE("business-rule"),
    CONFLICT("conflict"), TRANSIENT("transient"), LOCK_ERROR("lock-error"), NO_STORE("no-store"),
    EXCEPTION("exception"), TIMEOUT("timeout"), INCOMPLETE("incomplete"), THROTTLED("throttled"),
    INFORMATIONAL("informational");

    private final String fhirCode;

    Code(String fhirCode) {
      this.fhirCode = fhirCode;
    }

    public String fhirCode() {
      return fhirCode;
    }
  }

  public static Issue error(Code code, String diagnostics) {
    return new Issue(Severity.ERROR, code, diagnostics, null, null);
  }

  public static Issue error(Code code, String diagnostics, String expression) {
    return new Issue(Severity.ERROR, code, diagnostics, expression, null);
  }

  public static Issue warning(Code code, String diagnostics, String expression) {
    return new Issue(Severity.WARNING, code, diagnostics, expression, null);
  }

  public static Issue information(String diagnostics) {
    return new Issue(Severity.INFORMATION, Code.INFORMATIONAL, diagnostics, null, null);
  }

  /** This issue with its stable message code. */
  public Issue withMessage(MessageCode code) {
    return new Issue(severity, this.code, diagnostics, expression, code);
  }

  /** This issue told in other words (with more context), its code and message code kept. */
  public Issue rephrased(String diagnostics, String expression) {
    return new Issue(severity, code, diagnostics, expression, message);
  }
}

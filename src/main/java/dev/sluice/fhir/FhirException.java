package dev.sluice.fhir;

import java.util.List;

/**
 * The one exception every layer throws for a FHIR-level failure: it carries the HTTP status
 * and the OperationOutcome issues that the HTTP layer renders.
 */
public final class FhirException extends RuntimeException {
  private final int status;
  private final List<Issue> issues;

  public FhirException(int status, List<Issue> issues, Throwable cause) {
    super(issues.isEmpty() ? "HTTP " + status : issues.getFirst().diagnostics(), cause);
    if (issues.isEmpty()) {
      throw new IllegalArgumentException("a FhirException needs at least one issue");
    }
    this.status = status;
    this.issues = List.copyOf(issues);
  }

  public FhirException(int status, Issue issue) {
    this(status, List.of(issue), null);
  }

  public int status() {
    return status;
  }

  public List<Issue> issues() {
    return issues;
  }

  /** 400 for a request whose parameter or body is wrong; names the offending part. */
  public static FhirException badRequest(String diagnostics, String expression) {
    return new FhirException(400, Issue.error(Issue.Code.INVALID, diagnostics, expression));
  }

  public static FhirException badRequest(String diagnostics) {
    return badRequest(diagnostics, null);
  }

  public static FhirException notFound(String diagnostics) {
    return new FhirException(404, Issue.error(Issue.Code.NOT_FOUND, diagnostics));
  }

  public static FhirException gone(String diagnostics) {
    return new FhirException(410, Issue.error(Issue.Code.DELETED, diagnostics));
  }

  public static FhirException conflict(String diagnostics) {
    return new FhirException(409, Issue.error(Issue.Code.CONFLICT, diagnostics));
  }

  public static FhirException preconditionFailed(String diagnostics) {
    return new FhirException(412, Issue.error(Issue.Code.CONFLICT, diagnostics));
  }

  public static FhirException notSupported(String diagnostics, String expression) {
    return new FhirException(400, Issue.error(Issue.Code.NOT_SUPPORTED, diagnostics, expression));
  }

  public static FhirException unprocessable(String diagnostics, String expression) {
    return new FhirException(422, Issue.error(Issue.Code.PROCESSING, diagnostics, expression));
  }

  public static FhirException internal(String diagnostics, Throwable cause) {
    return new FhirException(500, List.of(Issue.error(Issue.Code.EXCEPTION, diagnostics)), cause);
  }
}

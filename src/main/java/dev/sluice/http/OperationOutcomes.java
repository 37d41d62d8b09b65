package dev.sluice.http;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import java.util.List;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/** Turns {@link Issue}s into OperationOutcome resources. */
public final class OperationOutcomes {
  private OperationOutcomes() {}

  public static OperationOutcome of(List<Issue> issues) {
    OperationOutcome oo = new OperationOutcome();
    for (Issue issue : issues) {
      var component = oo.addIssue();
      component.setSeverity(IssueSeverity.fromCode(issue.severity()));
      component.setCode(issueType(issue.code()));
      component.setDiagnostics(issue.diagnostics());
      if (issue.expression() != null) {
        component.addExpression(issue.expression());
      }
    }
    return oo;
  }

  public static byte[] json(FhirModel fhir, List<Issue> issues) {
    return fhir.encodeJson(of(issues));
  }

  private static IssueType issueType(String code) {
    try {
      return IssueType.fromCode(code);
    } catch (Exception e) {
      return IssueType.PROCESSING;
    }
  }
}

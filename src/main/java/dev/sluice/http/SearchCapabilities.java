package dev.sluice.http;

import dev.sluice.fhir.ParamKind;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.CapabilityStatementRestResourceComponent;
import org.hl7.fhir.r4.model.Enumerations.SearchParamType;

/** Lists every search parameter Sluice answers, per resource type, in the CapabilityStatement. */
final class SearchCapabilities implements Consumer<CapabilityStatement> {
  private final SearchParameters parameters;

  SearchCapabilities(SearchParameters parameters) {
    this.parameters = parameters;
  }

  @Override
  public void accept(CapabilityStatement cs) {
    for (CapabilityStatementRestResourceComponent r : cs.getRestFirstRep().getResource()) {
      for (SearchParam p : parameters.of(r.getType())) {
        if (p.kind() == ParamKind.SPECIAL) {
          continue;
        }
        r.addSearchParam().setName(p.name()).setType(SearchParamType.fromCode(p.kind().code()));
      }
      for (SearchParam p : parameters.of(r.getType())) {
        if (p.kind() == ParamKind.REFERENCE) {
          r.addSearchInclude(r.getType() + ":" + p.name());
        }
      }
    }
    for (CapabilityStatementRestResourceComponent source : cs.getRestFirstRep().getResource()) {
      for (SearchParam p : parameters.of(source.getType())) {
        if (p.kind() != ParamKind.REFERENCE) {
          continue;
        }
        for (CapabilityStatementRestResourceComponent target : cs.getRestFirstRep().getResource()) {
          if (p.targets().contains(target.getType())) {
            target.addSearchRevInclude(source.getType() + ":" + p.name());
          }
        }
      }
    }
  }
}

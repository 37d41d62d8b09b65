package dev.sluice.fhir;

import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimePrimitiveDatatypeDefinition;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.support.IValidationSupport;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.StructureDefinition.StructureDefinitionKind;
import org.hl7.fhir.r4.model.StructureDefinition.TypeDerivationRule;

/**
 * Skeleton StructureDefinitions made from HAPI's own model, for the FHIRPath engine's type
 * checks ({@code as}, {@code is}, {@code ofType}): it only asks whether a type exists and of
 * what kind. The full definition set is a large extra artifact that takes seconds to load.
 */
public final class TypeDefinitions implements IValidationSupport {
  private static final String BASE = "http://hl7.org/fhir/StructureDefinition/";

  private final FhirContext context;

  public TypeDefinitions(FhirContext context) {
    this.context = context;
  }

  @Override
  public FhirContext getFhirContext() {
    return context;
  }

  @Override
  public <T extends IBaseResource> List<T> fetchAllStructureDefinitions() {
    return new ArrayList<>();
  }

  @Override
  public IBaseResource fetchStructureDefinition(String url) {
    if (url == null || !url.startsWith(BASE)) {
      return null;
    }
    String name = url.substring(BASE.length());
    BaseRuntimeElementDefinition<?> definition = context.getElementDefinition(name);
    if (definition == null && context.getResourceTypes().contains(name)) {
      definition = context.getResourceDefinition(name);
    }
    if (definition == null) {
      return null;
    }
    StructureDefinition sd = new StructureDefinition();
    sd.setUrl(url).setName(name).setType(name).setDerivation(TypeDerivationRule.SPECIALIZATION);
    sd.setKind(definition instanceof RuntimeResourceDefinition ? StructureDefinitionKind.RESOURCE
        : definition instanceof RuntimePrimitiveDatatypeDefinition ? StructureDefinitionKind.PRIMITIVETYPE
        : StructureDefinitionKind.COMPLEXTYPE);
    return sd;
  }
}

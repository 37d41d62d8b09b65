package dev.sluice.export;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.PatientCompartment;
import java.util.Set;

/** The resource types each export level can contain. */
public final class ExportTypes {
  private final Set<String> all;
  private final Set<String> compartment;

  public ExportTypes(FhirModel fhir, PatientCompartment compartment) {
    this.all = fhir.resourceTypes();
    this.compartment = Set.copyOf(compartment.types(all));
  }

  public Set<String> forLevel(ExportLevel level) {
    return switch (level) {
      case ExportLevel.System s -> all;
      case ExportLevel.Patients p -> compartment;
      case ExportLevel.Group g -> compartment;
    };
  }

  public boolean isResourceType(String type) {
    return all.contains(type);
  }
}

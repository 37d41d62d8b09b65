package dev.sluice.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.util.FhirTerser;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * Which Patient compartments a resource belongs to, from the R4 CompartmentDefinition that
 * HAPI's search parameter metadata carries ({@code getProvidesMembershipInCompartments}).
 */
public final class PatientCompartment {
  private final FhirContext context;
  private final Map<String, Boolean> typeHasMembership = new ConcurrentHashMap<>();

  public PatientCompartment(FhirModel fhir) {
    this.context = fhir.context();
  }

  /** True when resources of this type can be in a Patient compartment. */
  public boolean applies(String type) {
    return typeHasMembership.computeIfAbsent(type, t -> t.equals("Patient")
        || context.getResourceDefinition(t).getSearchParams().stream()
            .map(RuntimeSearchParam::getProvidesMembershipInCompartments)
            .anyMatch(c -> c != null && c.contains("Patient")));
  }

  /** Every resource type that can be in a Patient compartment, sorted. */
  public Set<String> types(Set<String> allTypes) {
    Set<String> types = new TreeSet<>();
    for (String t : allTypes) {
      if (applies(t)) {
        types.add(t);
      }
    }
    return types;
  }

  /** The logical ids of the patients whose compartments hold {@code resource}. */
  public Set<String> patientIds(String type, IBaseResource resource) {
    Set<String> ids = new TreeSet<>();
    if (type.equals("Patient")) {
      ids.add(resource.getIdElement().getIdPart());
    }
    if (!applies(type)) {
      return ids;
    }
    FhirTerser terser = context.newTerser();
    List<IIdType> owners = terser.getCompartmentOwnersForResource("Patient", resource, Set.of());
    for (IIdType owner : owners) {
      if (owner.hasIdPart() && (!owner.hasResourceType() || "Patient".equals(owner.getResourceType()))) {
        ids.add(owner.getIdPart());
      }
    }
    return ids;
  }
}

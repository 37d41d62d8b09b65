package dev.sluice.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.util.FhirTerser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseReference;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;

/**
 * Which Patient compartments a resource belongs to, from the R4 CompartmentDefinition that
 * HAPI's search parameter metadata carries ({@code getProvidesMembershipInCompartments}).
 */
public final class PatientCompartment {
  /** FHIR ids are at most 64 characters (a contained one's "#" aside). */
  private static final int MAX_ID_LENGTH = 65;

  private final FhirContext context;
  private final FhirTerser terser;
  private final Map<String, Boolean> typeHasMembership = new ConcurrentHashMap<>();
  private final Map<String, List<Path>> paths = new ConcurrentHashMap<>();

  public PatientCompartment(FhirModel fhir) {
    this.context = fhir.context();
    this.terser = context.newTerser();
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

  /**
   * The logical ids of the patients whose compartments hold {@code resource}.
   *
   * <p>The same owners as HAPI's {@code FhirTerser.getCompartmentOwnersForResource("Patient", ...)}
   * (its steps, in the same order), with each type's paths split and matched once instead of on
   * every call: that method matched a regex per path and ran streams per resource, 7% of the
   * server's CPU when loading. {@code PatientCompartmentTest} compares both.
   */
  public Set<String> patientIds(String type, IBaseResource resource) {
    Set<String> ids = new TreeSet<>();
    if (type.equals("Patient")) {
      ids.add(resource.getIdElement().getIdPart());
    }
    for (Path path : paths.computeIfAbsent(type, this::pathsOf)) {
      for (IBaseReference ref : terser.getValues(resource, path.path(), IBaseReference.class)) {
        if (path.targetType() != null && !path.targetType().equals(typeOf(ref))) {
          continue;
        }
        IIdType owner = ownerOf(ref);
        // an id longer than any FHIR id names no patient (and would not fit the compartment's index)
        if (owner != null && owner.hasIdPart() && owner.getIdPart().length() <= MAX_ID_LENGTH
            && (!owner.hasResourceType() || "Patient".equals(owner.getResourceType()))) {
          ids.add(owner.getIdPart());
        }
      }
    }
    return ids;
  }

  /** A path of a search parameter giving Patient compartment membership, its {@code where(resolve() is X)} split off. */
  private record Path(String path, String targetType) {}

  // FhirTerser.COMPARTMENT_MATCHER_PATH
  private static final Pattern RESOLVE_IS = Pattern.compile("([a-zA-Z.]+)\\.where\\(resolve\\(\\) is ([a-zA-Z]+)\\)");

  private List<Path> pathsOf(String type) {
    if (!applies(type)) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    for (RuntimeSearchParam param : context.getResourceDefinition(type).getSearchParamsForCompartmentName("Patient")) {
      for (String p : param.getPathsSplit()) {
        if (p == null || p.isBlank()) {
          continue;
        }
        Matcher m = RESOLVE_IS.matcher(p);
        out.add(m.matches() ? new Path(m.group(1), m.group(2)) : new Path(p, null));
      }
    }
    return List.copyOf(out);
  }

  /** FhirTerser.getTypeFromReference */
  private String typeOf(IBaseReference ref) {
    IIdType id = ref.getReferenceElement().toUnqualifiedVersionless();
    if (id.getResourceType() != null && !id.getResourceType().isBlank()) {
      return id.getResourceType();
    }
    return ref.getResource() != null ? context.getResourceType(ref.getResource()) : "No type on reference";
  }

  /** The owner FhirTerser.visitCompartmentOwnersForResource reports for {@code ref}, or null. */
  private IIdType ownerOf(IBaseReference ref) {
    IIdType id = ref.getReferenceElement().toUnqualifiedVersionless();
    if ((id.getValue() == null || id.getValue().isBlank()) && ref.getResource() != null) {
      IBaseResource contained = ref.getResource();
      id = contained.getIdElement().toUnqualifiedVersionless();
      if (!id.hasResourceType()) {
        id.setParts(null, context.getResourceType(contained), id.getIdPart(), null);
      }
    }
    return id.getValue() != null && !id.getValue().isBlank() ? id : null;
  }
}

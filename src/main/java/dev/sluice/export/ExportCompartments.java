package dev.sluice.export;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.PatientCompartment;
import java.sql.SQLException;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The Patient compartments a Patient or Group level export reads (any patient's, or its member
 * patients'), as a test on one version's content. The table {@code compartment} answers this
 * for current versions only; this parses the version (HAPI) and derives its compartments the
 * way writes do ({@link PatientCompartment#patientIds}), so it judges a version replaced after
 * transactionTime, or the version before a deletion, as it was. Used for the few such
 * versions, never on the byte-copy path.
 */
final class ExportCompartments {
  /** Loads the member patients, once, when first needed. */
  @FunctionalInterface
  interface MemberSource {
    Set<String> load() throws SQLException;
  }

  private final FhirModel fhir;
  private final PatientCompartment compartment;
  private final boolean anyPatient;
  private final MemberSource source;
  private Set<String> members;

  private ExportCompartments(FhirModel fhir, PatientCompartment compartment, boolean anyPatient, MemberSource source) {
    this.fhir = fhir;
    this.compartment = compartment;
    this.anyPatient = anyPatient;
    this.source = source;
  }

  /** Every patient's compartment (Patient level without {@code patient}). */
  static ExportCompartments anyPatient(FhirModel fhir, PatientCompartment compartment) {
    return new ExportCompartments(fhir, compartment, true, Set::of);
  }

  /** The compartments of these patients (a Group's members, or the {@code patient} parameter's). */
  static ExportCompartments members(FhirModel fhir, PatientCompartment compartment, MemberSource source) {
    return new ExportCompartments(fhir, compartment, false, source);
  }

  /**
   * The exported patients whose compartments hold this version (organized output: the
   * candidates for its block); for a Patient in its own exported compartment, its own id alone.
   */
  Set<String> owners(String type, IBaseResource version) throws SQLException {
    Set<String> owners = new java.util.TreeSet<>(compartment.patientIds(type, version));
    if (!anyPatient) {
      if (members == null) {
        members = source.load();
      }
      owners.retainAll(members);
    }
    String own = type.equals("Patient") ? version.getIdElement().getIdPart() : null;
    return own != null && owners.contains(own) ? Set.of(own) : owners;
  }

  /** True when this version of a resource of {@code type} is in one of the compartments. */
  boolean holds(String type, byte[] content) throws SQLException {
    return holds(type, fhir.parse(content, Format.JSON));
  }

  /** The same for a version already parsed. */
  boolean holds(String type, IBaseResource version) throws SQLException {
    Set<String> owners = compartment.patientIds(type, version);
    if (anyPatient) {
      return !owners.isEmpty();
    }
    if (members == null) {
      members = source.load();
    }
    for (String owner : owners) {
      if (members.contains(owner)) {
        return true;
      }
    }
    return false;
  }
}

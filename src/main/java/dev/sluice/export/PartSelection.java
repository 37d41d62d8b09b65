package dev.sluice.export;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParam;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartTable;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What a job's request makes of its parts: the types it covers, the compartments it reads at
 * Patient and Group level, the {@code _typeFilter} searches of a type, and the transformations
 * of each row ({@code _elements}, de-identification).
 */
public final class PartSelection {
  private final FhirModel fhir;
  private final PatientCompartment compartment;
  private final SearchParser search;
  private final AnonymizationConfigs anonymizations;
  private final ExportPartTable parts;
  private final ExportMetrics metrics;

  public PartSelection(FhirModel fhir, PatientCompartment compartment, SearchParser search,
      AnonymizationConfigs anonymizations, ExportPartTable parts, ExportMetrics metrics) {
    this.fhir = fhir;
    this.compartment = compartment;
    this.search = search;
    this.anonymizations = anonymizations;
    this.parts = parts;
    this.metrics = metrics;
  }

  /** The types asked for, or every type the level allows. */
  Set<String> types(ExportRequest request) {
    return request.types().isEmpty()
        ? new ExportTypes(fhir, compartment).forLevel(request.level()) : Set.copyOf(request.types());
  }

  /** {@code _typeFilter}: the searches of this type, OR'ed. */
  List<SearchQuery> filters(ExportRequest request, String type) {
    List<SearchQuery> anyOf = new ArrayList<>();
    for (String query : request.typeFilters().getOrDefault(type, List.of())) {
      anyOf.add(search.parse(type, query));
    }
    return anyOf;
  }

  /** The compartments a Patient or Group level export reads. */
  ExportCompartments compartments(ExportJobRow job, ExportRequest request) {
    return switch (request.level()) {
      case ExportLevel.System s -> throw new IllegalStateException("a system-level export reads no compartments");
      case ExportLevel.Patients p -> request.patients().isEmpty() ? ExportCompartments.anyPatient(fhir, compartment)
          : ExportCompartments.members(fhir, compartment, () -> Set.copyOf(request.patients()));
      case ExportLevel.Group g -> ExportCompartments.members(fhir, compartment, () -> parts.members(job.id()));
    };
  }

  /** The {@code target} search parameter of Provenance, whose index rows find the Provenance of a resource. */
  SearchParam provenanceTarget() {
    return search.parameter("Provenance", "target")
        .orElseThrow(() -> new IllegalStateException("R4 defines Provenance.target"));
  }

  /** {@code _elements}, or null for whole resources. */
  ElementsFilter elements(ExportRequest request) {
    return request.elements().isEmpty() ? null : new ElementsFilter(fhir, request.elements());
  }

  /** The de-identification the job applies, or null. */
  Deidentifier deidentifier(ExportJobRow job, ExportRequest request) throws SQLException {
    return request.anonymization() == null ? null
        : new Deidentifier(anonymizations.of(job.id(), request.anonymization()), compartment, job.container(), metrics);
  }
}

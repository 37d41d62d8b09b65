package dev.sluice.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.util.FhirTerser;
import dev.sluice.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.junit.jupiter.api.Test;

/** {@link PatientCompartment} gives the same patients as HAPI's terser, which it replaces for speed. */
class PatientCompartmentTest {
  private static final FhirModel FHIR = new FhirModel();
  private static final PatientCompartment COMPARTMENT = new PatientCompartment(FHIR);

  /** What {@code patientIds} answered when it called HAPI's terser for every resource. */
  private static Set<String> byTerser(String type, IBaseResource resource) {
    Set<String> ids = new TreeSet<>();
    if (type.equals("Patient")) {
      ids.add(resource.getIdElement().getIdPart());
    }
    if (!COMPARTMENT.applies(type)) {
      return ids;
    }
    FhirTerser terser = FHIR.context().newTerser();
    for (IIdType owner : terser.getCompartmentOwnersForResource("Patient", resource, Set.of())) {
      if (owner.hasIdPart() && (!owner.hasResourceType() || "Patient".equals(owner.getResourceType()))) {
        ids.add(owner.getIdPart());
      }
    }
    return ids;
  }

  private static void assertSame(String json) {
    IBaseResource r = FHIR.parse(json.getBytes(StandardCharsets.UTF_8), Format.JSON);
    String type = r.fhirType();
    assertThat(COMPARTMENT.patientIds(type, r)).as(json).isEqualTo(byTerser(type, r));
  }

  @Test
  void every_resource_of_the_small_population_is_in_the_same_compartments_as_hapi_says() throws Exception {
    int checked = 0;
    int members = 0;
    try (Stream<Path> files = Files.list(Fixtures.small())) {
      for (Path f : files.filter(p -> p.toString().endsWith(".ndjson")).sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          IBaseResource r = FHIR.parse(line.getBytes(StandardCharsets.UTF_8), Format.JSON);
          Set<String> ours = COMPARTMENT.patientIds(r.fhirType(), r);
          assertThat(ours).as(line).isEqualTo(byTerser(r.fhirType(), r));
          checked++;
          members += ours.isEmpty() ? 0 : 1;
        }
      }
    }
    assertThat(checked).isGreaterThan(1000);
    assertThat(members).isGreaterThan(checked / 2);
  }

  @Test
  void typed_untyped_versioned_absolute_contained_and_foreign_references_agree_with_hapi() {
    for (String json : List.of(
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/p1\"},"
            + "\"performer\":[{\"reference\":\"Patient/p2/_history/3\"},{\"reference\":\"Practitioner/d1\"}]}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"http://other/fhir/Patient/p3\"}}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Group/g1\"}}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"p4\"}}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"#c1\"},"
            + "\"contained\":[{\"resourceType\":\"Patient\",\"id\":\"c1\"}]}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"identifier\":{\"value\":\"i\"}}}",
        "{\"resourceType\":\"Patient\",\"id\":\"p5\",\"link\":[{\"other\":{\"reference\":\"Patient/p6\"},\"type\":\"seealso\"}]}",
        "{\"resourceType\":\"Encounter\",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},\"subject\":{\"reference\":\"Patient/p7\"},"
            + "\"participant\":[{\"individual\":{\"reference\":\"RelatedPerson/r1\"}}]}",
        "{\"resourceType\":\"Organization\",\"name\":\"o\"}")) {
      assertSame(json);
    }
  }
}

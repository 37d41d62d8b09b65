package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.fhir.StoredJson;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * An import computes a line's index and compartment rows from the line as sent, on the reading
 * side, before the write gives it its versionId and lastUpdated: they must be the rows of the
 * version as stored.
 */
class LineIndexRowsTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchIndexWriter index = new SearchIndexWriter(fhir, new PatientCompartment(fhir),
      new SearchParameters(fhir), new ParamExpressions(fhir), OwnBases.none());

  private static void assertSameRows(String type, String id, String line) {
    byte[] sent = line.getBytes(StandardCharsets.UTF_8);
    byte[] stored = StoredJson.stamp(sent, type, id, "3", "2026-12-06T02:00:00.000+00:00");
    ResourceIndexRows fromLine = index.rows(type, fhir.parse(sent, Format.JSON));
    ResourceIndexRows fromStored = index.rows(type, fhir.parse(stored, Format.JSON));
    assertThat(fromLine.rows()).isNotEmpty().containsExactlyElementsOf(fromStored.rows());
    assertThat(fromLine.patients()).containsExactlyElementsOf(fromStored.patients());
  }

  @Test
  void a_patients_rows_from_its_line_are_those_of_its_stored_version() {
    assertSameRows("Patient", "p1", """
        {"resourceType":"Patient","id":"p1","meta":{"versionId":"9","lastUpdated":"2020-01-01T00:00:00Z",\
        "tag":[{"system":"http://t","code":"x"}],"profile":["http://p"],"source":"#s"},\
        "gender":"female","birthDate":"1970-02-03","name":[{"family":"Smith","given":["Ann"]}]}""");
  }

  @Test
  void an_observations_rows_and_compartments_from_its_line_are_those_of_its_stored_version() {
    assertSameRows("Observation", "o1", """
        {"resourceType":"Observation","id":"o1","status":"final",\
        "code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},"subject":{"reference":"Patient/p1"},\
        "effectiveDateTime":"2015-06-01T10:00:00Z","valueQuantity":{"value":170.5,"unit":"cm",\
        "system":"http://unitsofmeasure.org","code":"cm"}}""");
  }
}

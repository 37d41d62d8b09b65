package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rows the indexer makes for the texts of tokens ({@code :text}), without a server. */
class TokenTextRowsTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);
  private static final ResourceIndexer indexer =
      new ResourceIndexer(fhir, parameters, new ParamExpressions(fhir), OwnBases.none());

  private static List<IndexRow> rows(String observation) {
    return indexer.rows("Observation", fhir.parse(observation.getBytes(StandardCharsets.UTF_8), Format.JSON));
  }

  private static SearchParam param(String type, String name) {
    return parameters.find(type, name).orElseThrow();
  }

  /** Every text key of every token parameter of a type: where idx_string rows for :text used to go. */
  private static Set<Integer> textKeys(String type) {
    Set<Integer> keys = new HashSet<>();
    parameters.of(type).forEach(p -> keys.add(p.textKey()));
    return keys;
  }

  @Test
  void synthea_observations_have_no_string_rows_for_text_and_carry_the_display_on_the_code_row() {
    Set<Integer> textKeys = textKeys("Observation");
    int code = param("Observation", "code").key();
    for (String line : Fixtures.ndjson(Fixtures.small(), "Observation").subList(0, 200)) {
      List<IndexRow> rows = rows(line);
      assertThat(rows).noneMatch(r -> r instanceof IndexRow.Str s && textKeys.contains(s.key()));
      assertThat(rows).anyMatch(r -> r instanceof IndexRow.Token t && t.key() == code && t.display() != null);
    }
  }

  @Test
  void a_concept_text_equal_to_a_display_adds_nothing() {
    List<IndexRow> rows = rows(Fixtures.ndjson(Fixtures.small(), "Observation").getFirst());
    int code = param("Observation", "code").key();
    assertThat(rows).filteredOn(r -> r instanceof IndexRow.Token t && (t.key() == code
        || t.key() == param("Observation", "code").textKey()))
        .containsExactly(new IndexRow.Token(code, 0, "http://loinc.org", "8302-2", "body height"));
  }

  @Test
  void a_concept_text_goes_on_a_coding_row_without_display_else_on_a_text_only_row() {
    SearchParam code = param("Observation", "code");
    List<IndexRow> onCoding = rows("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"coding\":["
        + "{\"system\":\"urn:a\",\"code\":\"1\",\"display\":\"One\"},{\"system\":\"urn:a\",\"code\":\"2\"}],"
        + "\"text\":\"Ünö\"}}");
    assertThat(onCoding).filteredOn(r -> r instanceof IndexRow.Token t && t.key() != param("Observation", "status").key())
        .containsExactlyInAnyOrder(new IndexRow.Token(code.key(), 0, "urn:a", "1", "one"),
            new IndexRow.Token(code.key(), 0, "urn:a", "2", "uno"));
    List<IndexRow> textOnly = rows("{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"Headache\"}}");
    assertThat(textOnly).filteredOn(r -> r instanceof IndexRow.Token t && t.key() != param("Observation", "status").key())
        .containsExactly(new IndexRow.Token(code.textKey(), 0, null, null, "headache"));
  }

  @Test
  void composite_parts_carry_no_text() {
    List<IndexRow> rows = rows(Fixtures.ndjson(Fixtures.small(), "Observation").getFirst());
    assertThat(rows).noneMatch(r -> r instanceof IndexRow.Token t && t.grp() != 0 && t.display() != null);
  }
}

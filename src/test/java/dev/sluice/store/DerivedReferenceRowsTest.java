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
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Reference;
import org.junit.jupiter.api.Test;

/** The rows of derived reference parameters, straight from the indexer. */
class DerivedReferenceRowsTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);
  private static final ParamExpressions expressions = new ParamExpressions(fhir);
  private static final ResourceIndexer indexer = new ResourceIndexer(fhir, parameters, expressions, OwnBases.none());

  private static int key(String type, String name) {
    return parameters.find(type, name).orElseThrow().key();
  }

  private static IBaseResource parse(String json) {
    return fhir.parse(json.getBytes(StandardCharsets.UTF_8), Format.JSON);
  }

  private static List<IndexRow.Ref> refs(String type, IBaseResource resource, int key) {
    return indexer.rows(type, resource).stream()
        .filter(r -> r instanceof IndexRow.Ref && r.key() == key).map(r -> (IndexRow.Ref) r).toList();
  }

  private static IBaseResource observation(String subject) {
    return parse("{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"" + subject + "\"}}");
  }

  @Test
  void a_synthea_observation_with_a_local_subject_gets_no_row_under_the_patient_key() {
    String line = Fixtures.ndjson(Fixtures.small(), "Observation").getFirst();
    IBaseResource o = parse(line);
    List<IndexRow.Ref> subject = refs("Observation", o, key("Observation", "subject"));
    assertThat(subject).hasSize(1);
    assertThat(subject.getFirst().targetType()).isEqualTo("Patient");
    assertThat(refs("Observation", o, key("Observation", "patient"))).isEmpty();
  }

  @Test
  void a_patient_on_another_server_gets_a_url_row_under_the_patient_key_too() {
    String url = "http://other.example/fhir/Patient/1";
    assertThat(refs("Observation", observation(url), key("Observation", "patient")))
        .containsExactly(new IndexRow.Ref(key("Observation", "patient"), 0, null, null, url));
    assertThat(refs("Observation", observation(url), key("Observation", "subject")))
        .containsExactly(new IndexRow.Ref(key("Observation", "subject"), 0, null, null, url));
    assertThat(refs("Observation", observation("http://other.example/fhir/Group/1"), key("Observation", "patient")))
        .isEmpty();
    assertThat(refs("Observation", observation("urn:uuid:5f1c7c4e-0d43-4b0e-9a3e-1c2b3d4e5f60"),
        key("Observation", "patient"))).isEmpty();
  }

  @Test
  void a_reference_under_the_own_base_stays_a_local_row_of_the_source() {
    ResourceIndexer own = new ResourceIndexer(fhir, parameters, expressions, new OwnBases(List.of("http://me.example/fhir")));
    List<IndexRow> rows = own.rows("Observation", observation("http://me.example/fhir/Patient/7"));
    assertThat(rows).contains(new IndexRow.Ref(key("Observation", "subject"), 0, "Patient", "7", null));
    assertThat(rows).noneMatch(r -> r.key() == key("Observation", "patient"));
  }

  /**
   * For every resource of the small Synthea population and every derived parameter of its type,
   * what the parameter's own expression gives (HAPI's engine, as indexed before) is exactly
   * what search now reads: the source's local rows of the target type plus its own url rows.
   */
  @Test
  void derived_rows_give_what_the_expression_gave_on_synthea_data() throws Exception {
    int checked = 0;
    try (Stream<Path> files = Files.list(Fixtures.small())) {
      for (Path file : files.filter(f -> f.toString().endsWith(".ndjson")).sorted().toList()) {
        String type = file.getFileName().toString().replace(".ndjson", "");
        for (String line : Fixtures.ndjson(Fixtures.small(), type)) {
          IBaseResource resource = parse(line);
          List<IndexRow> rows = indexer.rows(type, resource);
          for (SearchParam p : parameters.of(type)) {
            SearchParam.Derived from = p.derivedFrom();
            if (from == null) {
              continue;
            }
            Set<String> before = new HashSet<>();
            for (Base v : expressions.evaluate((Base) resource, p.expression())) {
              if (v instanceof Reference r && r.hasReference()) {
                before.add(r.getReference());
              }
            }
            Set<String> now = new HashSet<>();
            for (IndexRow row : rows) {
              if (row instanceof IndexRow.Ref r && r.key() == from.key() && from.targetType().equals(r.targetType())) {
                now.add(r.targetType() + "/" + r.targetId());
              } else if (row instanceof IndexRow.Ref r && r.key() == p.key()) {
                assertThat(r.url()).isNotNull();
                now.add(r.url());
              }
            }
            assertThat(now).as(type + "." + p.name() + " of " + line).isEqualTo(before);
            checked += before.size();
          }
        }
      }
    }
    assertThat(checked).isGreaterThan(1000);
  }
}

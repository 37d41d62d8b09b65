package dev.sluice.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.Test;

class SearchParameterMetadataTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);

  private static SearchParam param(String type, String name) {
    return parameters.find(type, name).orElseThrow();
  }

  @Test
  void every_type_has_the_common_parameters_with_its_own_type_in_the_expression() {
    assertThat(param("Observation", "_lastUpdated").expression()).isEqualTo("Observation.meta.lastUpdated");
    assertThat(param("Patient", "_source").kind()).isEqualTo(ParamKind.URI);
    for (String name : List.of("_id", "_lastUpdated", "_tag", "_profile", "_security", "_source")) {
      assertThat(parameters.find("Encounter", name)).as(name).isPresent();
    }
  }

  @Test
  void composite_components_get_expressions_relative_to_each_composite_value() {
    SearchParam p = param("Observation", "combo-code-value-quantity");
    assertThat(p.kind()).isEqualTo(ParamKind.COMPOSITE);
    assertThat(p.components()).extracting(SearchParam.Component::kind).containsExactly(ParamKind.TOKEN, ParamKind.QUANTITY);
    assertThat(p.components().get(0).expression()).isEqualTo("code");
    assertThat(p.components().get(1).expression()).isEqualTo("(value as Quantity) | (value as SampledData)");
  }

  @Test
  void a_composite_of_the_resource_itself_reads_its_parts_from_the_plain_parameters() {
    SearchParam p = param("Observation", "code-value-quantity");
    assertThat(p.readsPlainRows()).isTrue();
    assertThat(p.componentKeys(0)).contains(param("Observation", "code").key());
    assertThat(p.componentKeys(1)).contains(param("Observation", "value-quantity").key());
    // still under its own keys too: rows written before are found
    assertThat(p.componentKeys(0)).contains(p.components().get(0).key());
    // several items per resource: the parts must come from the same component, so rows of its own
    assertThat(param("Observation", "component-code-value-quantity").readsPlainRows()).isFalse();
    assertThat(param("Observation", "combo-code-value-quantity").componentKeys(0))
        .contains(param("Observation", "code").key());
  }

  @Test
  void a_union_parameter_indexes_only_what_the_parameters_it_contains_do_not() {
    SearchParam combo = param("Observation", "combo-code");
    assertThat(combo.subsumed()).extracting(SearchParam::name).containsExactlyInAnyOrder("code", "component-code");
    assertThat(combo.indexed()).isEmpty();
    assertThat(combo.keys()).containsExactlyInAnyOrder(combo.key(), param("Observation", "code").key(),
        param("Observation", "component-code").key());
    SearchParam composite = param("Observation", "combo-code-value-quantity");
    assertThat(composite.subsumed()).extracting(SearchParam::name)
        .containsExactlyInAnyOrder("code-value-quantity", "component-code-value-quantity");
    assertThat(param("Observation", "code").subsumed()).isEmpty();
    assertThat(param("Observation", "code").indexed()).isEqualTo("Observation.code");
  }

  @Test
  void a_reference_parameter_restricted_to_a_type_is_derived_from_the_unrestricted_one() {
    SearchParam patient = param("Observation", "patient");
    assertThat(patient.derivedFrom())
        .isEqualTo(new SearchParam.Derived("subject", param("Observation", "subject").key(), "Patient"));
    assertThat(patient.indexed()).isEmpty();
    assertThat(patient.keys()).containsExactly(patient.key());
    assertThat(param("Encounter", "practitioner").derivedFrom())
        .isEqualTo(new SearchParam.Derived("participant", param("Encounter", "participant").key(), "Practitioner"));
    assertThat(param("Observation", "subject").derivedFrom()).isNull();
    assertThat(param("Observation", "subject").indexed()).isEqualTo("Observation.subject");
    long derived = fhir.resourceTypes().stream()
        .flatMap(t -> StreamSupport.stream(parameters.of(t).spliterator(), false))
        .filter(p -> p.derivedFrom() != null)
        .peek(p -> assertThat(p.expression()).as(p.type() + "." + p.name())
            .isEqualTo(param(p.type(), p.derivedFrom().source()).expression()
                + ".where(resolve() is " + p.derivedFrom().targetType() + ")"))
        .count();
    assertThat(derived).as("47 in HAPI's R4 metadata").isGreaterThan(40);
  }

  @Test
  void single_valued_means_one_element_of_cardinality_one() {
    assertThat(param("Observation", "date").singleValued()).isTrue();
    assertThat(param("Patient", "birthdate").singleValued()).isTrue();
    assertThat(param("Observation", "value-quantity").singleValued()).isTrue();
    assertThat(param("Patient", "address-city").singleValued()).isFalse();
    assertThat(param("Observation", "combo-value-quantity").singleValued()).isFalse();
  }

  @Test
  void index_keys_are_unique_across_all_parameters() {
    long params = fhir.resourceTypes().stream()
        .mapToLong(t -> StreamSupport.stream(parameters.of(t).spliterator(), false).count()).sum();
    assertThat(params).isGreaterThan(2400);
  }

  @Test
  void union_splitting_respects_parentheses_and_quotes() {
    assertThat(ParamExpressions.topLevelUnion("a | (b | c) | d.where(x = '|')"))
        .containsExactly("a", "(b | c)", "d.where(x = '|')");
  }
}

package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class CompositeRowsTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);
  private static final ResourceIndexer indexer =
      new ResourceIndexer(fhir, parameters, new ParamExpressions(fhir), OwnBases.none());

  private static int key(String name) {
    return parameters.find("Observation", name).orElseThrow().key();
  }

  private static int componentKey(String name, int i) {
    SearchParam p = parameters.find("Observation", name).orElseThrow();
    return p.components().get(i).key();
  }

  @Test
  void an_observation_gets_no_rows_of_its_own_for_code_value_quantity_but_keeps_those_of_its_components() {
    String json = """
        {"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"85354-9"}]},
         "valueQuantity":{"value":1,"unit":"x"},
         "component":[{"code":{"coding":[{"system":"http://loinc.org","code":"8480-6"}]},
                       "valueQuantity":{"value":120,"system":"http://unitsofmeasure.org","code":"mm[Hg]"}}]}""";
    List<IndexRow> rows = indexer.rows("Observation", fhir.parse(json.getBytes(StandardCharsets.UTF_8), Format.JSON));
    List<Integer> keys = rows.stream().map(CompositeRowsTest::keyOf).toList();
    assertThat(keys).contains(key("code"), key("value-quantity"))
        .doesNotContain(componentKey("code-value-quantity", 0), componentKey("code-value-quantity", 1))
        .contains(componentKey("component-code-value-quantity", 0), componentKey("component-code-value-quantity", 1));
  }

  private static int keyOf(IndexRow row) {
    return switch (row) {
      case IndexRow.Token t -> t.key();
      case IndexRow.Str s -> s.key();
      case IndexRow.Date d -> d.key();
      case IndexRow.Num n -> n.key();
      case IndexRow.Qty q -> q.key();
      case IndexRow.Ref r -> r.key();
      case IndexRow.Uri u -> u.key();
    };
  }
}

package dev.sluice.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.Fixtures;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Base;
import org.junit.jupiter.api.Test;

/** Plain paths walked directly give what HAPI's FHIRPath engine gives. */
class ParamExpressionsTest {
  private static final FhirModel FHIR = new FhirModel();
  private static final SearchParameters PARAMETERS = new SearchParameters(FHIR);
  private static final ParamExpressions EXPRESSIONS = new ParamExpressions(FHIR);

  @Test
  void every_parameter_of_every_resource_of_the_small_population_has_the_engines_values() throws Exception {
    int values = 0;
    try (Stream<Path> files = Files.list(Fixtures.small())) {
      for (Path f : files.filter(p -> p.toString().endsWith(".ndjson")).sorted().toList()) {
        for (String line : Files.readAllLines(f)) {
          Base r = (Base) FHIR.parse(line.getBytes(StandardCharsets.UTF_8), Format.JSON);
          for (SearchParam p : PARAMETERS.of(r.fhirType())) {
            for (String expression : List.of(p.expression(), p.indexed())) {
              List<Base> direct = EXPRESSIONS.evaluate(r, expression, true);
              assertSame(direct, EXPRESSIONS.evaluate(r, expression, false), r.fhirType() + " " + expression);
              values += direct.size();
              for (SearchParam.Component c : p.components()) {
                for (Base item : direct) {
                  assertSame(EXPRESSIONS.evaluate(item, c.expression(), true),
                      EXPRESSIONS.evaluate(item, c.expression(), false), expression + " / " + c.expression());
                }
              }
            }
          }
        }
      }
    }
    assertThat(values).isGreaterThan(50_000);
  }

  @Test
  void casts_of_every_choice_of_type_give_the_engines_values() {
    List<String> resources = List.of(
        "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/1\"},\"onsetAge\":{\"value\":3,"
            + "\"system\":\"http://unitsofmeasure.org\",\"code\":\"a\"},\"abatementRange\":{\"low\":{\"value\":1}}}",
        "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/1\"},\"onsetString\":\"young\","
            + "\"abatementDateTime\":\"2020-01-02\"}",
        "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/1\"},\"onsetPeriod\":{\"start\":\"2020\"}}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valueString\":\"s\","
            + "\"component\":[{\"code\":{\"text\":\"a\"},\"valueQuantity\":{\"value\":1}},"
            + "{\"code\":{\"text\":\"b\"},\"valueCodeableConcept\":{\"text\":\"c\"}},"
            + "{\"code\":{\"text\":\"c\"},\"valueQuantity\":{\"value\":2}}]}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"valueSampledData\":{\"origin\":{\"value\":0},\"period\":1,\"dimensions\":1}}",
        "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"valuePeriod\":{\"end\":\"2021\"}}",
        "{\"resourceType\":\"MedicationRequest\",\"status\":\"active\",\"intent\":\"order\","
            + "\"subject\":{\"reference\":\"Patient/1\"},\"medicationReference\":{\"reference\":\"Medication/m\"}}");
    int casts = 0;
    for (String json : resources) {
      Base r = (Base) FHIR.parse(json.getBytes(StandardCharsets.UTF_8), Format.JSON);
      for (SearchParam p : PARAMETERS.of(r.fhirType())) {
        List<Base> direct = EXPRESSIONS.evaluate(r, p.expression(), true);
        assertSame(direct, EXPRESSIONS.evaluate(r, p.expression(), false), r.fhirType() + " " + p.expression());
        if (p.expression().contains(" as ") || p.expression().contains(".as(")) {
          casts += direct.size();
        }
      }
    }
    assertThat(casts).isGreaterThan(10);
  }

  private static void assertSame(List<Base> direct, List<Base> engine, String what) {
    assertThat(direct).as(what).hasSameSizeAs(engine);
    for (int i = 0; i < direct.size(); i++) {
      if (direct.get(i) instanceof IIdType a && engine.get(i) instanceof IIdType b) {
        assertThat(a.getValue()).as(what).isEqualTo(b.getValue());
      } else if (direct.get(i).isPrimitive() && direct.get(i) != engine.get(i)) {
        // a value the engine computed (exists(), a comparison): new objects both times
        assertThat(direct.get(i).fhirType()).as(what).isEqualTo(engine.get(i).fhirType());
        assertThat(direct.get(i).primitiveValue()).as(what).isEqualTo(engine.get(i).primitiveValue());
      } else {
        assertThat(direct.get(i)).as(what).isSameAs(engine.get(i));
      }
    }
  }
}

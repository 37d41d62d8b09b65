package dev.sluice.deid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ConfigValidationTest {

    @ParameterizedTest(name = "{0} is refused, naming rule {1}")
    @CsvSource({
        "configuration-generalize-fail-compiled-expression.json, 0, generalize",
        "configuration-generalize-invalid-othervalues.json, 0, otherValues",
        "configuration-generalize-miss-cases.json, 0, cases",
        "configuration-invalid-fhirpath.json, 0, does not compile",
        "configuration-miss-replacement.json, 0, replaceWith",
        "configuration-perturb-exceed-28-roundTo.json, 0, roundTo",
        "configuration-perturb-miss-span.json, 0, span",
        "configuration-perturb-negative-roundTo.json, 0, roundTo",
        "configuration-perturb-negative-span.json, 0, span",
        "configuration-perturb-wrong-rangetype.json, 0, rangeType",
        "configuration-perturb-wrong-roundTo.json, 0, roundTo",
        "configuration-unsupported-method.json, 0, not supported",
        "configuration-custom-processor.json, 0, not supported",
    })
    void an_invalid_rule_is_refused_with_its_index_path_and_method(String file, int index, String problem) {
        assertThatThrownBy(() -> ReferenceData.config(file))
                .isInstanceOfSatisfying(AnonymizationConfigException.class, e -> {
                    assertThat(e.ruleIndex()).hasValue(index);
                    assertThat(e.rulePath()).isNotBlank();
                    assertThat(e.ruleMethod()).isNotBlank();
                    assertThat(e.getMessage()).contains("fhirPathRules[" + index + "]", e.rulePath(), e.ruleMethod(), problem);
                });
    }

    @ParameterizedTest
    @CsvSource({
        "configuration-invalid-encryptkey.json, 160 bits",
        "configuration-miss-rules.json, no fhirPathRules",
    })
    void an_invalid_configuration_is_refused_with_a_clear_message(String file, String problem) {
        assertThatThrownBy(() -> ReferenceData.config(file))
                .isInstanceOf(AnonymizationConfigException.class)
                .hasMessageContaining(problem);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"fhirPathRules\": [",
        "{\"fhirPathRules\": [], \"fhirPathRules\": []}",
        "{\"fhirVersion\": \"Stu3\", \"fhirPathRules\": []}",
        "{\"processingErrors\": \"keep\", \"fhirPathRules\": []}",
        "{\"fhirPathRules\": [], \"parameters\": {\"dateShiftScope\": \"planet\"}}",
    })
    void malformed_configurations_are_refused(String json) {
        assertThatThrownBy(() -> AnonymizationConfig.parse(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(AnonymizationConfigException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "common-config.json", "common-no-partial-config.json", "configuration-sample.json",
        "configuration-sample-with-dateshiftfixedoffset.json", "configuration-raise-processing-error.json",
        "configuration-skip-processing-error.json", "configuration-test-sample.json",
        "configuration-without-processing-error.json", "generalize-patient-config.json", "r4-configuration-sample.json",
        "redact-all-config.json", "substitute-complex.json", "substitute-conflict-rules.json", "substitute-multiple.json",
        "substitute-multiple-2.json", "substitute-primitive.json", "unit-configuration-raise-processing-error.json",
        "unit-configuration-without-processing-error.json",
    })
    void valid_reference_configurations_load(String file) {
        AnonymizationConfig config = ReferenceData.config(file);

        assertThat(config.rules()).isNotEmpty();
        assertThat(config.sha256()).hasSize(64);
    }

    @Test
    void sample_configuration_is_read_completely() {
        AnonymizationConfig config = ReferenceData.config("configuration-sample-with-dateshiftfixedoffset.json");

        assertThat(config.rules()).hasSize(193);
        assertThat(config.rules().get(0).method()).isInstanceOf(Method.Redact.class);
        assertThat(config.rules().get(59).method()).isEqualTo(new Method.Perturb(0.1, Method.RangeType.PROPORTIONAL, 0));
        assertThat(config.parameters().dateShiftFixedOffsetInDays()).isEqualTo(7);
        assertThat(config.parameters().dateShiftScope()).isEqualTo(DateShiftScope.RESOURCE);
        assertThat(config.parameters().restrictedZipCodeTabulationAreas()).contains("036", "893");
        assertThat(config.processingErrors()).isEqualTo(ProcessingErrors.RAISE);
    }

    @Test
    void keys_never_appear_in_the_printed_configuration() {
        AnonymizationConfig config = AnonymizationConfig.parse(
                "{\"fhirPathRules\": [], \"parameters\": {\"cryptoHashKey\": \"secret-hash-key\", \"encryptKey\": \"0123456789abcdef\"}}"
                        .getBytes(StandardCharsets.UTF_8));

        assertThat(config.toString()).doesNotContain("secret-hash-key", "0123456789abcdef");
    }
}

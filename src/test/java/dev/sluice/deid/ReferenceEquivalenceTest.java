package dev.sluice.deid;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every input / configuration / expected-output triple of the reference README table, compared as parsed JSON.
 * The table is read from the README itself, so a row added there is a test here.
 */
class ReferenceEquivalenceTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final ObjectMapper JSON = new ObjectMapper();
    // The expected outputs predate 2026; a fixed "today" keeps their over-89 decisions stable.
    private static final Clock TODAY = Clock.fixed(Instant.parse("2025-06-01T00:00:00Z"), ZoneOffset.UTC);

    static Stream<Arguments> table() throws IOException {
        List<Arguments> rows = new ArrayList<>();
        for (String line : Files.readAllLines(ReferenceData.anonymizationDir().resolve("README.md"), StandardCharsets.UTF_8)) {
            String[] cells = line.split("\\|");
            if (cells.length < 4 || !cells[1].contains(".json")) {
                continue;
            }
            String config = cells[2].trim();
            String expected = cells[3].trim();
            for (String input : cells[1].split(",")) {
                String in = input.trim();
                String out = expected.contains(".json") ? expected : in.replace(".json", "-target.json");
                rows.add(Arguments.of(in, config, out));
            }
        }
        assertThat(rows).hasSizeGreaterThan(25);
        return rows.stream();
    }

    @ParameterizedTest(name = "{0} with {1} gives {2}")
    @MethodSource("table")
    void anonymized_output_equals_the_reference_target(String input, String config, String expected) throws IOException {
        Anonymizer anonymizer = new Anonymizer(FHIR, ReferenceData.config(config), TODAY);

        byte[] output = anonymizer.anonymize(ReferenceData.read(ReferenceData.testResource(input)), null);

        JsonNode actual = JSON.readTree(output);
        JsonNode target = JSON.readTree(stripBom(ReferenceData.read(ReferenceData.testResource(expected))));
        if (!actual.equals(target)) {
            Path failed = Path.of("target", "deid-actual", input + "--" + config);
            Files.createDirectories(failed.getParent());
            Files.write(failed, output);
        }
        assertThat(actual).as(new String(output, StandardCharsets.UTF_8)).isEqualTo(target);
    }

    @ParameterizedTest
    @ValueSource(strings = {"configuration-raise-processing-error.json", "configuration-without-processing-error.json"})
    void a_processing_error_is_raised_unless_the_configuration_says_skip(String config) {
        Anonymizer anonymizer = new Anonymizer(FHIR, ReferenceData.config(config), TODAY);
        byte[] input = ReferenceData.read(ReferenceData.testResource("patient-basic.json"));

        assertThatThrownBy(() -> anonymizer.anonymize(input, null))
                .isInstanceOf(AnonymizationException.class)
                .hasMessageContaining("generalize");
    }

    private static byte[] stripBom(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        return (text.startsWith("\uFEFF") ? text.substring(1) : text).getBytes(StandardCharsets.UTF_8);
    }
}

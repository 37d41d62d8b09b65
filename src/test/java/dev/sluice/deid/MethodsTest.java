package dev.sluice.deid;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class MethodsTest {

    private static final FhirContext FHIR = FhirContext.forR4Cached();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Clock TODAY = Clock.fixed(Instant.parse("2025-06-01T00:00:00Z"), ZoneOffset.UTC);

    private static AnonymizationConfig config(String rules, String parameters) {
        return AnonymizationConfig.parse(("{\"fhirPathRules\": [" + rules + "], \"parameters\": {" + parameters + "}}")
                .getBytes(StandardCharsets.UTF_8));
    }

    private static JsonNode run(AnonymizationConfig config, String resource, String scopeKey) throws IOException {
        return JSON.readTree(new Anonymizer(FHIR, config, TODAY).anonymize(resource.getBytes(StandardCharsets.UTF_8), scopeKey));
    }

    @Test
    void date_shift_offset_is_the_reference_hash_of_prefix_and_key() {
        DateShifter shifter = new DateShifter(config("", "\"dateShiftKey\": \"123\"").parameters(), null, TODAY);

        // patient-basic's expected output moves 2001-01-01 to 2001-02-11 for id "example" and key "123"
        assertThat(shifter.offset("example")).isEqualTo(41);
        assertThat(shifter.offset("")).isBetween(-50, 50);
    }

    @Test
    void fixed_offset_moves_every_date_by_that_many_days_and_zeroes_the_time() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"nodesByType('dateTime')\", \"method\": \"dateShift\"}",
                "\"dateShiftFixedOffsetInDays\": 7");

        JsonNode out = run(config, "{\"resourceType\":\"Encounter\",\"id\":\"e1\",\"period\":{\"start\":\"2020-02-25T10:11:12.345+02:00\"}}", null);

        assertThat(out.at("/period/start").asText()).isEqualTo("2020-03-03T00:00:00.000+02:00");
        assertThat(out.at("/meta/security/0/code").asText()).isEqualTo("PERTURBED");
    }

    // Azure's $export parses resources into the .NET POCO model (microsoft/fhir-server FhirModule.cs), which holds an
    // instant as a DateTimeOffset and writes it back as yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK (firely-net-common
    // PrimitiveTypeConverter.FMT_FULL): the date-shift regex of DateTimeUtility.cs sees ".26+00:00", not ".260Z".
    @Test
    void an_instant_is_read_as_the_reference_reads_it_before_the_rules_run() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"nodesByType('instant')\", \"method\": \"dateShift\"}",
                "\"dateShiftFixedOffsetInDays\": 1");

        JsonNode out = run(config, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"issued\":\"2013-01-13T21:45:04.260Z\"}", null);

        assertThat(out.at("/issued").asText()).isEqualTo("2013-01-14T00:00:00.00+00:00");
    }

    @Test
    void an_instant_no_rule_touches_is_written_in_the_reference_form() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"Resource.id\", \"method\": \"cryptoHash\"}", "\"cryptoHashKey\": \"k\"");

        JsonNode out = run(config, "{\"resourceType\":\"Observation\",\"id\":\"o\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"issued\":\"2013-01-13T21:45:04.000Z\"}", null);

        assertThat(out.at("/issued").asText()).isEqualTo("2013-01-13T21:45:04+00:00");
    }

    // ElementNodeOperationExtensions.AddSecurityTag rebuilds meta through the POCO model (ToPoco<Meta>), so the
    // shifted lastUpdated "...T00:00:00.000+00:00" comes out without its all-zero fraction.
    @Test
    void meta_last_updated_goes_through_the_reference_meta_rewrite_when_labels_are_added() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"nodesByType('instant')\", \"method\": \"dateShift\"}",
                "\"dateShiftFixedOffsetInDays\": 1");

        JsonNode out = run(config, "{\"resourceType\":\"Patient\",\"meta\":{\"lastUpdated\":\"2026-11-27T10:37:12.345+00:00\"}}", null);

        assertThat(out.at("/meta/lastUpdated").asText()).isEqualTo("2026-11-28T00:00:00+00:00");
        assertThat(out.at("/meta/security/0/code").asText()).isEqualTo("PERTURBED");
    }

    // DateTimeUtility.cs RedactDateTimeAndInstantNode keeps the year of an instant as of a dateTime.
    @Test
    void an_instant_redacted_with_partial_dates_keeps_its_year_as_the_reference_does() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"Observation.issued\", \"method\": \"redact\"}",
                "\"enablePartialDatesForRedact\": true");

        JsonNode out = run(config, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"issued\":\"2020-01-01T10:00:00Z\"}", null);

        assertThat(out.at("/issued").asText()).isEqualTo("2020");
    }

    @Test
    void patient_scope_gives_one_offset_to_all_resources_of_a_patient() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"nodesByType('dateTime')\", \"method\": \"dateShift\"}",
                "\"dateShiftKey\": \"k\", \"dateShiftScope\": \"patient\"");

        JsonNode a = run(config, "{\"resourceType\":\"Encounter\",\"id\":\"a\",\"period\":{\"start\":\"2020-01-10\"}}", "patient-1");
        JsonNode b = run(config, "{\"resourceType\":\"Encounter\",\"id\":\"b\",\"period\":{\"start\":\"2020-01-10\"}}", "patient-1");

        assertThat(a.at("/period/start")).isEqualTo(b.at("/period/start"));
    }

    @Test
    void crypto_hash_keeps_the_type_of_a_literal_reference_and_matches_the_hashed_id() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"Resource.id\", \"method\": \"cryptoHash\"},"
                + "{\"path\": \"nodesByType('Reference').reference\", \"method\": \"cryptoHash\"}", "\"cryptoHashKey\": \"123\"");

        JsonNode patient = run(config, "{\"resourceType\":\"Patient\",\"id\":\"23\"}", null);
        JsonNode observation = run(config, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                + "\"subject\":{\"reference\":\"Patient/23\"}}", null);

        assertThat(patient.get("id").asText()).hasSize(64);
        assertThat(observation.at("/subject/reference").asText()).isEqualTo("Patient/" + patient.get("id").asText());
    }

    @Test
    void a_relative_reference_read_without_the_patterns_is_hashed_as_the_patterns_hash_it() {
        CryptoHash hash = new CryptoHash("123", FHIR.getResourceTypes());
        String id64 = "a".repeat(64);
        for (String reference : List.of("Patient/23", "Patient/23/_history/2", "Patient/" + id64, "Patient/" + id64 + "b",
                "Patient/a_b", "Patient/", "Patient//1", "Patient/1/", "Patient/1/_history/", "Patient/1/_history/x/y",
                "Patient/1/extra", "Foo/1", "patient/1", "/Patient/1", "Patient", "Observation/a.b-C",
                "http://x/fhir/Patient/1", "httpPatient/1", "urn:uuid:0b3c6e1a-5b4c-4f4e-9d2a-3c1b2a4d5e6f",
                "urn:oid:1.2.3", "Patient/1\n")) {
            assertThat(hash.hashReference(reference)).as(reference).isEqualTo(hash.hashByPatterns(reference));
        }
        assertThat(hash.hashReference("Patient/23")).isEqualTo("Patient/" + hash.hash("23"));
    }

    @Test
    void a_shifted_day_is_written_as_the_formatter_writes_it() {
        java.time.format.DateTimeFormatter formatter = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd");
        for (java.time.LocalDate day : List.of(java.time.LocalDate.of(1, 1, 1), java.time.LocalDate.of(999, 12, 31),
                java.time.LocalDate.of(1000, 1, 1), java.time.LocalDate.of(2024, 2, 29), java.time.LocalDate.of(9999, 12, 31),
                java.time.LocalDate.of(10000, 1, 1), java.time.LocalDate.of(0, 6, 15), java.time.LocalDate.of(-5, 6, 15))) {
            assertThat(DateShifter.dayText(day)).as(day.toString()).isEqualTo(day.format(formatter));
        }
        for (java.time.LocalDate day = java.time.LocalDate.of(1899, 1, 1); day.getYear() < 2101; day = day.plusDays(1)) {
            assertThat(DateShifter.dayText(day)).isEqualTo(day.format(formatter));
        }
    }

    // Hashes are remembered by input (CryptoHash.REMEMBERED): a value hashed as a reference and as a plain value, and
    // values that share a slot, each still get their own hash.
    @Test
    void a_remembered_hash_is_the_hash_of_its_own_input_and_kind() {
        CryptoHash hash = new CryptoHash("123", FHIR.getResourceTypes());
        for (int round = 0; round < 2; round++) {
            assertThat(hash.remembered(true, "Patient/23")).isEqualTo("Patient/" + hash.hash("23"));
            assertThat(hash.remembered(false, "Patient/23")).isEqualTo(hash.hash("Patient/23"));
            for (int i = 0; i < 3 * CryptoHash.REMEMBERED; i++) {
                String value = "Encounter/" + i;
                assertThat(hash.remembered(i % 2 == 0, value)).as(value)
                        .isEqualTo(i % 2 == 0 ? hash.hashReference(value) : hash.hash(value));
            }
        }
    }

    // The walk reads dates and instants by hand (the patterns were a fifth of a de-identified export's CPU): the same
    // parts as the grammar patterns for every value, well-formed or not.
    @Test
    void dates_and_instants_read_by_hand_are_read_as_the_patterns_read_them() {
        List<String> values = new java.util.ArrayList<>(List.of("2020", "0000", "0001", "2000", "1900", "2020-05",
                "2020-13", "2020-00", "2020-05-06", "2020-05-00", "2020-05-32", "2020-02-30", "2020-05-06T10:11:12Z",
                "2020-05-06T10:11:12.345+02:00", "2020-05-06T24:00:00Z", "2020-05-06T23:59:60-14:00",
                "2020-05-06T23:59:59+14:01", "2020-05-06T23:59:59+13:59", "2020-05-06T10:11:12", "2020-05-06T10:11Z",
                "2020-05-06T10:11:12.Z", "2020-05-06T10:11:12.1234567890Z", "2020-05-06x", "x2020-05-06", " 2020",
                "2020-05-06T10:11:12Zjunk", "12020-05-06", "2020-5-6", "2013-01-13T21:45:04.260Z",
                "2013-01-13T21:45:04.000-00:00", "2013-01-13T21:45:04+05:30", "2013-01-13T21:45:04.1230000Z", ""));
        java.util.Random random = new java.util.Random(13);
        String alphabet = "0123456789-T:.Z+x";
        for (int i = 0; i < 200_000; i++) {
            StringBuilder value = new StringBuilder(random.nextBoolean() ? "2013-01-13T21:45:04.260Z" : "1999-12-31");
            for (int edits = random.nextInt(4); edits > 0; edits--) {
                int at = random.nextInt(value.length() + 1);
                char c = alphabet.charAt(random.nextInt(alphabet.length()));
                switch (random.nextInt(3)) {
                    case 0 -> value.insert(at, c);
                    case 1 -> { if (at < value.length()) value.setCharAt(at, c); }
                    default -> { if (at < value.length()) value.deleteCharAt(at); }
                }
            }
            values.add(value.toString());
        }
        for (String value : values) {
            assertThat(FhirDates.read(FhirDates.DATE, value)).as(value).isEqualTo(FhirDates.readByPatterns(FhirDates.DATE, value));
            assertThat(FhirDates.read(FhirDates.DATE_TIME, value)).as(value)
                    .isEqualTo(FhirDates.readByPatterns(FhirDates.DATE_TIME, value));
            assertThat(FhirDates.referenceInstant(value)).as(value).isEqualTo(FhirDates.referenceInstantByPattern(value));
            String time = value.indexOf('T') >= 0 ? value.substring(value.indexOf('T')) : value;
            assertThat(FhirDates.zeroClock(time)).as(time).isEqualTo(FhirDates.zeroClockByPattern(time));
        }
    }

    @Test
    void date_shift_offset_of_any_prefix_is_the_hash_of_its_utf8_bytes() {
        DateShifter shifter = new DateShifter(config("", "\"dateShiftKey\": \"k\u00e9y\"").parameters(), null, TODAY);
        for (String prefix : List.of("", "example", "a".repeat(64), "pat\u00efent", "\ud83d\ude00x")) {
            int offset = 0;
            for (byte b : (prefix + "k\u00e9y").getBytes(StandardCharsets.UTF_8)) {
                offset = (offset * 131 + (b & 0xff)) % 101;
            }
            assertThat(shifter.offset(prefix)).as(prefix).isEqualTo(offset - 50);
        }
    }

    @Test
    void encrypted_values_decrypt_back_with_the_key() throws IOException {
        String key = "0123456789abcdef0123456789abcdef";
        AnonymizationConfig config = config("{\"path\": \"Patient.name.family\", \"method\": \"encrypt\"}", "\"encryptKey\": \"" + key + "\"");

        JsonNode out = run(config, "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Smith\"}]}", null);

        String cipherText = out.at("/name/0/family").asText();
        assertThat(cipherText).isNotEqualTo("Smith");
        assertThat(new Encryption(key).decrypt(cipherText)).isEqualTo("Smith");
        assertThat(out.at("/meta/security/0/code").asText()).isEqualTo("ENCRYPT");
    }

    @Test
    void perturb_stays_within_the_span_and_rounds() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"Observation.value\", \"method\": \"perturb\", \"span\": 2, \"roundTo\": 1}", "");

        for (int i = 0; i < 50; i++) {
            JsonNode out = run(config, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                    + "\"valueQuantity\":{\"value\":100.0,\"unit\":\"kg\"}}", null);
            double value = out.at("/valueQuantity/value").asDouble();
            assertThat(value).isBetween(99.0, 101.0);
            assertThat(out.at("/valueQuantity/value").asText()).matches("\\d+\\.\\d");
        }
    }

    @Test
    void an_age_over_89_is_removed_and_a_younger_one_kept_with_partial_ages() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"nodesByType('Age')\", \"method\": \"redact\"}", "\"enablePartialAgesForRedact\": true");
        String condition = "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/1\"},\"onsetAge\":{\"value\":%s,\"unit\":\"a\"}}";

        assertThat(run(config, condition.formatted("95"), null).at("/onsetAge/value").isMissingNode()).isTrue();
        assertThat(run(config, condition.formatted("45"), null).at("/onsetAge/value").asInt()).isEqualTo(45);
    }

    // Deliberate deviation: DateTimeUtility.cs RedactAgeDecimalNode does int.Parse on the decimal's text, which throws
    // a FormatException (not a processing error, so no skip) for 45.5 or 45.0. Sluice compares the decimal with 89.
    @Test
    void an_age_with_a_fraction_is_compared_as_a_decimal_where_the_reference_fails() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"nodesByType('Age')\", \"method\": \"redact\"}", "\"enablePartialAgesForRedact\": true");
        String condition = "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":\"Patient/1\"},\"onsetAge\":{\"value\":%s,\"unit\":\"a\"}}";

        assertThat(run(config, condition.formatted("45.5"), null).at("/onsetAge/value").decimalValue()).isEqualByComparingTo("45.5");
        assertThat(run(config, condition.formatted("89.5"), null).at("/onsetAge/value").isMissingNode()).isTrue();
    }

    // Deliberate deviation: PerturbProcessor.cs takes span = value * span, so a negative value gives a negative span and
    // MathNet's ContinuousUniform.Sample(lower > upper) throws. Sluice uses the magnitude: noise within span/2 of |value|.
    @Test
    void proportional_perturb_of_a_negative_value_uses_its_magnitude() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"Observation.value\", \"method\": \"perturb\", \"span\": 0.1,"
                + " \"rangeType\": \"proportional\", \"roundTo\": 2}", "");

        for (int i = 0; i < 20; i++) {
            JsonNode out = run(config, "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                    + "\"valueQuantity\":{\"value\":-100.0,\"unit\":\"cm\"}}", null);
            assertThat(out.at("/valueQuantity/value").asDouble()).isBetween(-105.0, -95.0);
        }
    }

    // Deliberate deviation: the Safe Harbor sample's "FamilyMemberHistory.condition.onset as Age" fails in the reference
    // when two or more conditions have an onset: Firely's binary "as" takes one element (Typecasts.CastTo throws
    // InvalidCastException for a collection), and the export would fail. Sluice applies "as" to each onset.
    @Test
    void as_over_several_onsets_perturbs_each_age_where_the_reference_fails() throws IOException {
        AnonymizationConfig config = config("{\"path\": \"FamilyMemberHistory.condition.onset as Age\", \"method\": \"perturb\","
                + " \"span\": 0.1, \"rangeType\": \"proportional\", \"roundTo\": 0},"
                + "{\"path\": \"FamilyMemberHistory.condition.onset\", \"method\": \"redact\"}", "");

        JsonNode out = run(config, "{\"resourceType\":\"FamilyMemberHistory\",\"status\":\"completed\",\"patient\":{\"reference\":\"Patient/1\"},"
                + "\"relationship\":{\"text\":\"aunt\"},\"condition\":[{\"code\":{\"text\":\"a\"},\"onsetAge\":{\"value\":40,\"unit\":\"a\"}},"
                + "{\"code\":{\"text\":\"b\"},\"onsetString\":\"childhood\"}]}", null);

        assertThat(out.at("/condition/0/onsetAge/value").asInt()).isBetween(38, 42);
        assertThat(out.at("/condition/1/onsetString").isMissingNode()).isTrue();
    }

    @Test
    void a_skipped_resource_becomes_a_redacted_shell() throws IOException {
        JsonNode out = run(ReferenceData.config("configuration-skip-processing-error.json"),
                new String(ReferenceData.read(ReferenceData.testResource("patient-basic.json")), StandardCharsets.UTF_8), null);

        assertThat(List.of(out.fieldNames().next())).containsExactly("resourceType");
        assertThat(out.at("/meta/security/0/code").asText()).isEqualTo("REDACTED");
    }
}

package dev.sluice.deid;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * The JSON walk ({@link Anonymizer#walk}) against the model engine it stands in for: over every resource of the small
 * and medium Synthea populations, under every valid configuration of the reference and the keyed Safe Harbor sample
 * the benchmark uses, whatever the walk decides must be byte for byte what the model engine writes.
 */
class WalkEquivalenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void walk_writes_the_bytes_of_the_model_engine_under_every_configuration() throws IOException {
        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, Anonymizer> configuration : configurations().entrySet()) {
            // a folder-scoped configuration shifts dates by the scope key, the others by the resource id
            String scopeKey = configuration.getValue().config().parameters().dateShiftScope() == DateShiftScope.FOLDER ? "bench-deid" : null;
            for (String population : List.of("small", "medium")) {
                for (byte[] resource : resources(population)) {
                    byte[] walked = configuration.getValue().walk(resource, 0, resource.length, scopeKey);
                    if (walked == null) {
                        continue;
                    }
                    String expected;
                    try {
                        expected = new String(configuration.getValue().anonymizeByModel(resource, scopeKey), StandardCharsets.UTF_8);
                    } catch (AnonymizationException e) {
                        expected = "model engine failed: " + e.getMessage();
                    }
                    String actual = new String(walked, StandardCharsets.UTF_8);
                    if (!expected.equals(actual) && differences.size() < 5) {
                        int at = 0;
                        while (at < Math.min(expected.length(), actual.length()) && expected.charAt(at) == actual.charAt(at)) {
                            at++;
                        }
                        int from = Math.max(0, at - 80);
                        differences.add(configuration.getKey() + " on " + population + ", " + expected.substring(0, Math.min(60, expected.length()))
                                + "... from character " + at + ":\n  model ..." + expected.substring(from, Math.min(expected.length(), at + 120))
                                + "\n  walk  ..." + actual.substring(from, Math.min(actual.length(), at + 120)));
                    }
                }
            }
        }
        assertThat(differences).isEmpty();
    }

    @Test
    void walk_decides_every_synthea_resource_under_the_safe_harbor_sample() throws IOException {
        Anonymizer safeHarbor = new Anonymizer(FhirContext.forR4Cached(), keyedSafeHarbor());
        for (String population : List.of("small", "medium")) {
            Map<String, Integer> undecided = new java.util.TreeMap<>();
            int decided = 0;
            for (byte[] resource : resources(population)) {
                if (safeHarbor.walk(resource, 0, resource.length, null) == null) {
                    String json = new String(resource, 0, Math.min(60, resource.length), StandardCharsets.UTF_8);
                    undecided.merge(json.substring(0, Math.max(0, json.indexOf(",\"id\""))), 1, Integer::sum);
                } else {
                    decided++;
                }
            }
            assertThat(undecided).as("resources of %s the walk left to the model engine", population).isEmpty();
            assertThat(decided).isGreaterThan(3000);
        }
    }

    @Test
    void walk_copies_a_number_only_when_the_model_engine_writes_it_as_read() throws IOException {
        Anonymizer safeHarbor = new Anonymizer(FhirContext.forR4Cached(), keyedSafeHarbor());
        // numbers not in plain notation, which the model engine writes as it holds them, are left to it
        List<String> decimals = List.of("-0.0", "-0", "1e3", "1E3", "1.0E3", "1E+3", "1e-3", "0.0000001", "0.00000000",
                "-0.000", "1.50", "0.000001", "0.0000010", "123456789012345678901234567890.25", "-12.5", "0", "100");
        List<String> decided = List.of("0.0000001", "0.00000000", "1.50", "0.000001", "0.0000010",
                "123456789012345678901234567890.25", "-12.5", "0", "100");
        List<String> differences = new ArrayList<>();
        for (String value : decimals) {
            String json = "{\"resourceType\":\"Observation\",\"id\":\"o1\",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
                    + "\"referenceRange\":[{\"low\":{\"value\":" + value + ",\"unit\":\"mg\"}}]}";
            compare(safeHarbor, json, decided.contains(value), differences);
        }
        for (String value : List.of("-0", "-0.0", "1e3", "1E+3", "1.0E3", "1.0", "0.5", "2147483648", "3", "-5")) {
            String json = "{\"resourceType\":\"Patient\",\"id\":\"p1\",\"multipleBirthInteger\":" + value + "}";
            compare(safeHarbor, json, value.equals("3") || value.equals("-5"), differences);
        }
        assertThat(differences).isEmpty();
    }

    @Test
    void walk_leaves_a_member_given_twice_to_the_model_engine() throws IOException {
        Anonymizer safeHarbor = new Anonymizer(FhirContext.forR4Cached(), keyedSafeHarbor());
        List<String> differences = new ArrayList<>();
        for (String members : List.of("\"gender\":\"male\",\"gender\":\"female\"", "\"multipleBirthBoolean\":true,\"multipleBirthInteger\":2",
                "\"name\":[{\"family\":\"A\"}],\"name\":[{\"family\":\"B\"}]")) {
            String json = "{\"resourceType\":\"Patient\",\"id\":\"p1\"," + members + "}";
            compare(safeHarbor, json, false, differences);
            byte[] resource = json.getBytes(StandardCharsets.UTF_8);
            assertThat(safeHarbor.walk(resource, 0, resource.length, null)).as(json).isNull();
        }
        // the same members given once are decided: the refusal above is for the repeat, not for the members
        for (String members : List.of("\"gender\":\"female\"", "\"multipleBirthInteger\":2", "\"name\":[{\"family\":\"B\"}]")) {
            compare(safeHarbor, "{\"resourceType\":\"Patient\",\"id\":\"p1\"," + members + "}", true, differences);
        }
        assertThat(differences).isEmpty();
    }

    private static void compare(Anonymizer anonymizer, String json, boolean mustDecide, List<String> differences) {
        byte[] resource = json.getBytes(StandardCharsets.UTF_8);
        byte[] walked = anonymizer.walk(resource, 0, resource.length, null);
        String expected;
        try {
            expected = new String(anonymizer.anonymizeByModel(resource, null), StandardCharsets.UTF_8);
        } catch (AnonymizationException e) {
            expected = "model engine failed: " + e.getMessage();
        }
        if (walked == null ? mustDecide : !expected.equals(new String(walked, StandardCharsets.UTF_8))) {
            differences.add(json + "\n  model " + expected + "\n  walk  " + (walked == null ? "undecided" : new String(walked, StandardCharsets.UTF_8)));
        }
    }

    private static Map<String, Anonymizer> configurations() throws IOException {
        Map<String, Anonymizer> anonymizers = new LinkedHashMap<>();
        anonymizers.put("keyed configuration-sample.json", new Anonymizer(FhirContext.forR4Cached(), keyedSafeHarbor()));
        ObjectNode folderScoped = (ObjectNode) JSON.readTree(ReferenceData.read(ReferenceData.configuration("configuration-sample.json")));
        ((ObjectNode) folderScoped.path("parameters")).put("dateShiftScope", "folder");
        anonymizers.put("configuration-sample.json, folder scope",
                new Anonymizer(FhirContext.forR4Cached(), AnonymizationConfig.parse(JSON.writeValueAsBytes(folderScoped))));
        try (Stream<Path> files = Files.list(ReferenceData.anonymizationDir().resolve("configurations"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                AnonymizationConfig config;
                try {
                    config = AnonymizationConfig.parse(ReferenceData.read(file));
                } catch (AnonymizationConfigException invalid) {
                    continue; // the reference's examples of invalid configurations
                }
                anonymizers.put(file.getFileName().toString(), new Anonymizer(FhirContext.forR4Cached(), config));
            }
        }
        return anonymizers;
    }

    private static AnonymizationConfig keyedSafeHarbor() throws IOException {
        ObjectNode sample = (ObjectNode) JSON.readTree(ReferenceData.read(ReferenceData.configuration("configuration-sample.json")));
        ((ObjectNode) sample.path("parameters")).put("dateShiftKey", "sluice-bench-date-shift-key");
        ((ObjectNode) sample.path("parameters")).put("cryptoHashKey", "sluice-bench-crypto-hash-key");
        return AnonymizationConfig.parse(JSON.writeValueAsBytes(sample));
    }

    private static final Map<String, List<byte[]>> POPULATIONS = new LinkedHashMap<>();

    private static synchronized List<byte[]> resources(String population) throws IOException {
        List<byte[]> cached = POPULATIONS.get(population);
        if (cached != null) {
            return cached;
        }
        List<byte[]> lines = new ArrayList<>();
        try (Stream<Path> files = Files.list(ReferenceData.sharedDir().resolve("data").resolve(population))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".ndjson") || f.toString().endsWith(".ndjson.gz")).sorted().toList()) {
                InputStream in = Files.newInputStream(file);
                if (file.toString().endsWith(".gz")) {
                    in = new GZIPInputStream(in, 1 << 16);
                }
                try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = reader.readLine()) != null) {
                        if (!line.isBlank()) {
                            lines.add(line.getBytes(StandardCharsets.UTF_8));
                        }
                    }
                }
            }
        }
        POPULATIONS.put(population, lines);
        return lines;
    }
}

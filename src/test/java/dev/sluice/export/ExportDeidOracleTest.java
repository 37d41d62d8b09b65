package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.deid.AnonymizationConfig;
import dev.sluice.deid.Anonymizer;
import dev.sluice.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue #5, point 3: de-identification gives, field by field, what the reference algorithm gives. The reference is
 * bench/deid-oracle, an independent re-implementation of FHIR Tools for Anonymization from its C# source on HL7's
 * fhirpath.js (node, installed like Azurite into the git-ignored {@code .tools/deid-oracle}), which first checks
 * itself against the reference's own expected outputs. bench/deid-oracle/run.sh does the same on any data set.
 */
class ExportDeidOracleTest {
  private static final ExportClient client = ExportFixture.client();
  private static final String CONFIG = "deid-oracle-safe-harbor.json";
  private static final Path PROJECT = Path.of(System.getProperty("user.dir"));
  private static final Path ORACLE = PROJECT.resolve("bench/deid-oracle");
  private static final Path REFERENCE = Fixtures.sharedDir().resolve("reference/anonymization");
  private static Path modules;

  @BeforeAll
  static void oracle() throws Exception {
    modules = installOracle();
    assertThat(run(Path.of("."), List.of("node", ORACLE.resolve("selftest.js").toString(), REFERENCE.toString())))
        .contains(", 0 different");
  }

  /** The oracle's input is a plain export of the same population, so both sides start from the same stored bytes. */
  @Test
  void safe_harbor_export_of_the_small_population_equals_the_reference_oracle_field_by_field() throws Exception {
    byte[] config = DeidConfigFiles.safeHarbor("resource");
    DeidConfigFiles.put(client, CONFIG, config);
    String types = "$export?_type=" + String.join(",", ExportFixture.loaded().keySet());
    Path work = Files.createTempDirectory("sluice-deid-oracle");
    Path plain = download(client.manifest(types), work.resolve("plain"));
    Path sluice = download(client.manifest(types + "&_container=deid-oracle&_anonymizationConfig=" + CONFIG),
        work.resolve("sluice"));

    String diff = compare(work, Files.write(work.resolve(CONFIG), config), plain, sluice);

    assertThat(diff).contains("compared 3302 resources").endsWith("\n0 differences\n");
  }

  /** What Synthea lacks: Bundles, contained resources, old and partial dates, restricted zip codes, references... */
  @Test
  void reference_test_inputs_and_edge_cases_equal_the_reference_oracle_under_five_configurations() throws Exception {
    Path work = Files.createTempDirectory("sluice-deid-oracle-inputs");
    Path inputs = Files.createDirectories(work.resolve("inputs"));
    try (Stream<Path> files = Files.list(REFERENCE.resolve("test-resources"))) {
      for (Path f : files.filter(f -> !f.toString().endsWith("-target.json")).sorted().toList()) {
        JsonNode resource = ExportClient.JSON.readTree(Files.readString(f).replace("\uFEFF", ""));
        Files.writeString(inputs.resolve(f.getFileName().toString().replace(".json", ".ndjson")), resource + "\n");
      }
    }
    List<String> edgeCases = new ArrayList<>();
    ExportClient.JSON.readTree(ORACLE.resolve("edge-cases.json").toFile()).forEach(r -> edgeCases.add(r.toString()));
    Files.write(inputs.resolve("edge-cases.ndjson"), edgeCases, StandardCharsets.UTF_8);
    Map<String, byte[]> configs = new LinkedHashMap<>();
    configs.put("safe-harbor", DeidConfigFiles.safeHarbor("resource"));
    for (String name : List.of("common-config", "common-no-partial-config", "redact-all-config", "r4-configuration-sample")) {
      configs.put(name, DeidConfigFiles.reference(name + ".json"));
    }

    for (Map.Entry<String, byte[]> c : configs.entrySet()) {
      Path dir = work.resolve(c.getKey());
      Path sluice = Files.createDirectories(dir.resolve("sluice"));
      Anonymizer anonymizer = new Anonymizer(FhirContext.forR4Cached(), AnonymizationConfig.parse(c.getValue()));
      try (Stream<Path> files = Files.list(inputs)) {
        for (Path f : files.sorted().toList()) {
          List<String> out = new ArrayList<>();
          for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
            out.add(new String(anonymizer.anonymize(line.getBytes(StandardCharsets.UTF_8), null), StandardCharsets.UTF_8));
          }
          Files.write(sluice.resolve(f.getFileName()), out, StandardCharsets.UTF_8);
        }
      }

      String diff = compare(dir, Files.write(dir.resolve("config.json"), c.getValue()), inputs, sluice);

      assertThat(diff).as(c.getKey()).contains("compared 34 resources").endsWith("\n0 differences\n");
    }
  }

  /** Runs the oracle over {@code input} and diff.js against {@code sluice}; returns diff.js's report. */
  private static String compare(Path work, Path config, Path input, Path sluice) throws Exception {
    List<String> anonymize = new ArrayList<>(List.of("node", ORACLE.resolve("oracle.js").toString(),
        "--config", config.toString()));
    try (Stream<Path> files = Files.list(input)) {
      files.sorted().forEach(f -> anonymize.add(f.toString()));
    }
    anonymize.add(work.resolve("oracle").toString());
    run(work, anonymize);
    return run(work, List.of("node", ORACLE.resolve("diff.js").toString(), work.resolve("oracle").toString(),
        sluice.toString()));
  }

  private static Path download(JsonNode manifest, Path dir) throws IOException {
    Files.createDirectories(dir);
    for (String type : ExportClient.counts(manifest).keySet()) {
      Files.write(dir.resolve(type + ".ndjson"), client.lines(manifest, "output", type), StandardCharsets.UTF_8);
    }
    return dir;
  }

  /** fhirpath.js at the version bench/deid-oracle/package.json pins, installed on first use. */
  private static Path installOracle() throws Exception {
    Path home = PROJECT.resolve(".tools/deid-oracle");
    byte[] wanted = Files.readAllBytes(ORACLE.resolve("package.json"));
    Path installed = home.resolve("package.json");
    if (!Files.isDirectory(home.resolve("node_modules/fhirpath")) || !Files.exists(installed)
        || !Arrays.equals(wanted, Files.readAllBytes(installed))) {
      Files.createDirectories(home);
      Files.write(installed, wanted);
      run(home, List.of("npm", "install", "--prefix", home.toString(), "--no-audit", "--no-fund", "--loglevel=error"));
    }
    return home.resolve("node_modules");
  }

  /** Runs a node or npm command with the oracle's modules; returns its output, failing the test on a non-zero exit. */
  private static String run(Path dir, List<String> command) throws Exception {
    Path log = Files.createTempFile("sluice-node", ".log");
    ProcessBuilder b = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    if (modules != null) {
      b.environment().put("NODE_PATH", modules.toString());
    }
    Process p = b.start();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    if (!done) {
      p.destroyForcibly();
    }
    String output = Files.readString(log);
    Files.delete(log);
    assertThat(done && p.exitValue() == 0).as(String.join(" ", command) + "\n" + output).isTrue();
    return output;
  }
}

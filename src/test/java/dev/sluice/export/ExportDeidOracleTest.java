package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue #5, point 3: a de-identified export of the small Synthea population with the HIPAA Safe Harbor sample
 * equals, field by field, what the reference algorithm gives. The reference is bench/deid-oracle, an independent
 * re-implementation of FHIR Tools for Anonymization from its C# source on HL7's fhirpath.js (node, installed like
 * Azurite into the git-ignored {@code .tools/deid-oracle}); it first checks itself against the reference's own test
 * cases. Its input is a plain export of the same population, so both sides start from the same stored bytes.
 */
class ExportDeidOracleTest {
  private static final ExportClient client = ExportFixture.client();
  private static final String CONFIG = "deid-oracle-safe-harbor.json";

  @Test
  void safe_harbor_export_of_the_small_population_equals_the_reference_oracle_field_by_field() throws Exception {
    Path project = Path.of(System.getProperty("user.dir"));
    Path oracle = project.resolve("bench/deid-oracle");
    Path modules = installOracle(project, oracle);
    byte[] config = DeidConfigFiles.safeHarbor("resource");
    DeidConfigFiles.put(client, CONFIG, config);
    String types = "$export?_type=" + String.join(",", ExportFixture.loaded().keySet());
    Path work = Files.createTempDirectory("sluice-deid-oracle");
    Path configFile = Files.write(work.resolve(CONFIG), config);
    Path plain = download(client.manifest(types), work.resolve("plain"));
    Path sluice = download(client.manifest(types + "&_container=deid-oracle&_anonymizationConfig=" + CONFIG),
        work.resolve("sluice"));

    List<String> anonymize = new ArrayList<>(List.of("node", oracle.resolve("oracle.js").toString(),
        "--config", configFile.toString()));
    try (var files = Files.list(plain)) {
      files.sorted().forEach(f -> anonymize.add(f.toString()));
    }
    anonymize.add(work.resolve("oracle").toString());

    assertThat(run(modules, work, List.of("node", oracle.resolve("selftest.js").toString(),
        Fixtures.sharedDir().resolve("reference/anonymization").toString()))).contains(", 0 different");
    run(modules, work, anonymize);
    String diff = run(modules, work, List.of("node", oracle.resolve("diff.js").toString(),
        work.resolve("oracle").toString(), sluice.toString()));
    assertThat(diff).contains("compared 3302 resources").endsWith("\n0 differences\n");
  }

  private static Path download(JsonNode manifest, Path dir) throws IOException {
    Files.createDirectories(dir);
    for (String type : ExportClient.counts(manifest).keySet()) {
      Files.write(dir.resolve(type + ".ndjson"), client.lines(manifest, "output", type), StandardCharsets.UTF_8);
    }
    return dir;
  }

  /** fhirpath.js at the version bench/deid-oracle/package.json pins, installed on first use. */
  private static Path installOracle(Path project, Path oracle) throws Exception {
    Path home = project.resolve(".tools/deid-oracle");
    byte[] wanted = Files.readAllBytes(oracle.resolve("package.json"));
    Path installed = home.resolve("package.json");
    if (!Files.isDirectory(home.resolve("node_modules/fhirpath")) || !Files.exists(installed)
        || !Arrays.equals(wanted, Files.readAllBytes(installed))) {
      Files.createDirectories(home);
      Files.write(installed, wanted);
      run(home.resolve("node_modules"), home, List.of("npm", "install", "--prefix", home.toString(), "--no-audit",
          "--no-fund", "--loglevel=error"));
    }
    return home.resolve("node_modules");
  }

  /** Runs a node or npm command with the oracle's modules; returns its output, failing the test with it on a non-zero exit. */
  private static String run(Path modules, Path dir, List<String> command) throws Exception {
    Path log = Files.createTempFile(dir, "node", ".log");
    ProcessBuilder b = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile());
    b.environment().putAll(Map.of("NODE_PATH", modules.toString()));
    Process p = b.start();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    String output = Files.readString(log);
    assertThat(done && p.exitValue() == 0).as(String.join(" ", command) + "\n" + output).isTrue();
    return output;
  }
}

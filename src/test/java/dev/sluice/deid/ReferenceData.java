package dev.sluice.deid;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The shared reference files of FHIR Tools for Anonymization (configurations, inputs, expected outputs). */
final class ReferenceData {

    private ReferenceData() {}

    static Path sharedDir() {
        return Path.of(System.getProperty("sluice.sharedDir", "../shared"));
    }

    static Path anonymizationDir() {
        return sharedDir().resolve("reference/anonymization");
    }

    static Path configuration(String name) {
        return anonymizationDir().resolve("configurations").resolve(name);
    }

    static Path testResource(String name) {
        return anonymizationDir().resolve("test-resources").resolve(name);
    }

    static AnonymizationConfig config(String name) {
        return AnonymizationConfig.parse(read(configuration(name)));
    }

    static byte[] read(Path path) {
        try {
            return Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

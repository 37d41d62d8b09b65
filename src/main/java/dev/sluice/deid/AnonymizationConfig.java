package dev.sluice.deid;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/**
 * A validated, immutable de-identification configuration in the format of FHIR Tools for Anonymization (the engine
 * behind Azure API for FHIR's de-identified export). Every FHIRPath in it is compiled at load; anything invalid is
 * refused with an {@link AnonymizationConfigException} that names the rule.
 */
public final class AnonymizationConfig {

    private final String fhirVersion;
    private final ProcessingErrors processingErrors;
    private final List<Rule> rules;
    private final AnonymizationParameters parameters;
    private final String sha256;
    private final List<CompiledRule> compiledRules;

    AnonymizationConfig(String fhirVersion, ProcessingErrors processingErrors, AnonymizationParameters parameters,
            String sha256, List<CompiledRule> compiledRules) {
        this.fhirVersion = fhirVersion;
        this.processingErrors = processingErrors;
        this.parameters = parameters;
        this.sha256 = sha256;
        this.compiledRules = List.copyOf(compiledRules);
        this.rules = this.compiledRules.stream().map(CompiledRule::rule).toList();
    }

    /** Reads and validates a configuration; the stream is read to its end and not closed. */
    public static AnonymizationConfig parse(InputStream json) throws IOException {
        return parse(json.readAllBytes());
    }

    public static AnonymizationConfig parse(byte[] json) {
        return ConfigReader.read(json);
    }

    /** "R4", or "" when the configuration leaves it out. */
    public String fhirVersion() {
        return fhirVersion;
    }

    public ProcessingErrors processingErrors() {
        return processingErrors;
    }

    public List<Rule> rules() {
        return rules;
    }

    public AnonymizationParameters parameters() {
        return parameters;
    }

    /** Lowercase hex SHA-256 of the configuration bytes as given, e.g. to record which configuration an export used. */
    public String sha256() {
        return sha256;
    }

    List<CompiledRule> compiledRules() {
        return compiledRules;
    }

    @Override
    public String toString() {
        return "AnonymizationConfig[sha256=" + sha256 + ", rules=" + rules.size() + ", processingErrors=" + processingErrors
                + ", " + parameters + "]";
    }
}

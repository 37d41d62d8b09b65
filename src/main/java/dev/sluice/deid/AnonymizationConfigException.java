package dev.sluice.deid;

import java.util.OptionalInt;

/** A de-identification configuration was refused; when a rule is at fault it is named by index, path and method. */
public final class AnonymizationConfigException extends RuntimeException {

    private final int ruleIndex;
    private final String rulePath;
    private final String ruleMethod;

    AnonymizationConfigException(String message, Throwable cause) {
        super(message, cause);
        this.ruleIndex = -1;
        this.rulePath = null;
        this.ruleMethod = null;
    }

    AnonymizationConfigException(int ruleIndex, String rulePath, String ruleMethod, String problem, Throwable cause) {
        super("fhirPathRules[" + ruleIndex + "] (path '" + rulePath + "', method '" + ruleMethod + "'): " + problem, cause);
        this.ruleIndex = ruleIndex;
        this.rulePath = rulePath;
        this.ruleMethod = ruleMethod;
    }

    /** Index of the offending rule in {@code fhirPathRules}, empty when the problem is not in one rule. */
    public OptionalInt ruleIndex() {
        return ruleIndex < 0 ? OptionalInt.empty() : OptionalInt.of(ruleIndex);
    }

    /** Path of the offending rule, or null. */
    public String rulePath() {
        return rulePath;
    }

    /** Method of the offending rule as written in the configuration, or null. */
    public String ruleMethod() {
        return ruleMethod;
    }
}

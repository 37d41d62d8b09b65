package dev.sluice.deid;

import org.hl7.fhir.r4.model.Coding;

/**
 * What was done to a resource, in the order the reference engine writes its meta.security labels. Only the first
 * three carry a system there; the codes are the reference engine's, CRYTOHASH spelling included.
 */
enum Operation {
    REDACT("REDACTED", "redacted", true),
    ABSTRACT("ABSTRED", "abstracted", true),
    CRYPTOHASH("CRYTOHASH", "cryptographic hash function", true),
    ENCRYPT("ENCRYPT", "exact value is transformed into ciphertext", false),
    PERTURB("PERTURBED", "exact value is replaced with another exact value", false),
    SUBSTITUTE("SUBSTITUTED", "exact value is replaced with a predefined value", false),
    GENERALIZE("GENERALIZED", "exact value is replaced with a general value", false);

    static final String SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

    private final String code;
    private final String display;
    private final boolean withSystem;

    Operation(String code, String display, boolean withSystem) {
        this.code = code;
        this.display = display;
        this.withSystem = withSystem;
    }

    String code() {
        return code;
    }

    Coding label() {
        Coding coding = new Coding().setCode(code).setDisplay(display);
        return withSystem ? coding.setSystem(SYSTEM) : coding;
    }
}

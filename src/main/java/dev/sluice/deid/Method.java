package dev.sluice.deid;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/** What a rule does to the nodes it selects: the closed set of methods of FHIR Tools for Anonymization. */
public sealed interface Method {

    /** Leave the node as it is, and shield it from later rules. */
    record Keep() implements Method {}

    /** Remove values; dates, ages and postal codes may be kept in part (see the parameters). */
    record Redact() implements Method {}

    /** Move date, dateTime and instant values by a key-derived number of days. */
    record DateShift() implements Method {}

    /** Replace values by their HMAC-SHA256; literal references keep their type prefix. */
    record CryptoHash() implements Method {}

    /** Replace values by base64(IV + AES-CBC ciphertext). */
    record Encrypt() implements Method {}

    /** Replace the node by a fixed value: a JSON string for primitives, a JSON object for complex types. */
    record Substitute(JsonNode replaceWith) implements Method {}

    /** Add uniform noise in [-span/2, span/2] (times the value when proportional), rounded to {@code roundTo} places. */
    record Perturb(double span, RangeType rangeType, Integer roundTo) implements Method {}

    /** Replace a primitive by the value of the first case whose FHIRPath predicate holds. */
    record Generalize(List<Case> cases, OtherValues otherValues) implements Method {
        public Generalize {
            cases = List.copyOf(cases);
        }
    }

    /** One generalization case: both sides are FHIRPath expressions evaluated on the node. */
    record Case(String predicate, String value) {}

    enum RangeType { FIXED, PROPORTIONAL }

    enum OtherValues { REDACT, KEEP }
}

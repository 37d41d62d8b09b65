package dev.sluice.deid;

/**
 * One element of a resource as the methods that read and rewrite a single value see it (redact, dateShift,
 * cryptoHash): its FHIR type, element name, the type of its parent, and its text. The model engine's {@link Node}
 * and the JSON walk's {@link JsonElement} both are one, so both engines run the same method code.
 */
sealed interface Element permits Node, JsonElement {

    /** The FHIR type ({@code date}, {@code HumanName}, {@code Patient.contact}). */
    String type();

    /** Element name without the choice suffix; null for the root. */
    String name();

    /** The parent's FHIR type; null for the root. */
    String parentType();

    /** The primitive value as text, or null when there is none (empty strings count as none). */
    String text();

    /** Sets or (with null) clears the primitive value. */
    void setText(String text);
}

package dev.sluice.deid;

/** One entry of {@code fhirPathRules}, in file order; the first rule that reaches a node wins. */
public record Rule(int index, String path, Method method) {}

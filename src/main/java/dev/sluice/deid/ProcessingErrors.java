package dev.sluice.deid;

/** What the engine does when one resource cannot be anonymized: fail ({@code raise}) or hand back an empty shell ({@code skip}). */
public enum ProcessingErrors {
    RAISE,
    SKIP
}

package dev.sluice.deid;

/**
 * One resource could not be anonymized. Under {@code processingErrors: raise} it reaches the caller; under
 * {@code skip} the engine returns an empty, REDACTED-labelled shell instead. Messages never carry resource content.
 */
public final class AnonymizationException extends RuntimeException {

    AnonymizationException(String message, Throwable cause) {
        super(message, cause);
    }
}

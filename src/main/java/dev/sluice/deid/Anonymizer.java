package dev.sluice.deid;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import java.io.ByteArrayInputStream;
import java.time.Clock;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Resource;

/**
 * De-identifies FHIR R4 resources with one {@link AnonymizationConfig}, as FHIR Tools for Anonymization does.
 * Build one per configuration and share it: it is thread-safe, and all set-up (FHIRPath compilation, rule lookup by
 * type, keys) happens once.
 *
 * <p>{@code scopeKey} feeds the date-shift offset when the configuration's {@code dateShiftScope} asks for one: the
 * patient id for {@code patient}, the output file name for {@code file}, the folder name for {@code folder}. With
 * scope {@code resource}, or when it is null, the offset comes from the top-level resource's id, as in the reference.
 *
 * <p>When one resource cannot be anonymized: with {@code processingErrors: raise} an {@link AnonymizationException}
 * is thrown; with {@code skip} the result is an empty resource of the same type labelled REDACTED. Input that is not a
 * FHIR resource always throws.
 */
public final class Anonymizer {

    private final FhirContext fhirContext;
    private final AnonymizationConfig config;
    private final ResourceProcessor processor;
    private final ResourceJsonWriter writer = new ResourceJsonWriter();
    private final CryptoHash cryptoHash;
    private final JsonWalk walk;

    /** What became of one resource: anonymized in place, or left out under {@code processingErrors: skip}. */
    public sealed interface Result {
        /** The resource, anonymized in place. */
        record Anonymized(IBaseResource resource) implements Result {}

        /** Skipped: {@code error} says which rule failed, without any value of the resource. */
        record Skipped(AnonymizationException error) implements Result {}
    }

    public Anonymizer(FhirContext fhirContext, AnonymizationConfig config) {
        this(fhirContext, config, Clock.systemUTC());
    }

    /** The clock decides which birth dates imply an age over 89. */
    Anonymizer(FhirContext fhirContext, AnonymizationConfig config, Clock clock) {
        this.fhirContext = fhirContext;
        this.config = config;
        PathEngine engine = new PathEngine(fhirContext);
        AnonymizationParameters parameters = config.parameters();
        Redaction redaction = new Redaction(parameters, clock);
        this.cryptoHash = new CryptoHash(parameters.cryptoHashKey(), fhirContext.getResourceTypes());
        DateShifter dateShifter = new DateShifter(parameters, redaction, clock);
        this.processor = new ResourceProcessor(config, engine, redaction, dateShifter, cryptoHash,
                new Encryption(parameters.encryptKey()), new Substitution(fhirContext));
        this.walk = new JsonWalk(config, new ElementShapes(fhirContext), redaction, dateShifter, cryptoHash);
    }

    public AnonymizationConfig config() {
        return config;
    }

    /** Anonymizes one resource given as JSON and returns it as minified JSON. */
    public byte[] anonymize(byte[] resourceJson, String scopeKey) {
        byte[] walked = walk(resourceJson, 0, resourceJson.length, scopeKey);
        return walked != null ? walked : anonymizeByModel(resourceJson, scopeKey);
    }

    /** The model engine alone: parse into HAPI's model, apply, write. The reference for {@link #walk}. */
    byte[] anonymizeByModel(byte[] resourceJson, String scopeKey) {
        return write(anonymize(parse(resourceJson, 0, resourceJson.length), scopeKey));
    }

    /**
     * Anonymizes one resource by a walk over its JSON, without HAPI's model; null when the walk cannot decide it (then
     * the model engine must, and it also reports any failure).
     */
    public byte[] walk(byte[] json, int offset, int length, String scopeKey) {
        return walk.anonymize(json, offset, length, scopeKey);
    }

    /**
     * Anonymizes an R4 resource in place, telling a skipped resource apart (where {@link #anonymize(IBaseResource,
     * String)} gives an empty shell). Under {@code processingErrors: raise} a failure throws instead.
     */
    public Result apply(IBaseResource resource, String scopeKey) {
        if (!(resource instanceof Resource r4)) {
            throw new IllegalArgumentException("expected an R4 resource, got " + resource.getClass().getName());
        }
        try {
            processor.process(r4, scopeKey);
            return new Result.Anonymized(r4);
        } catch (RuntimeException e) {
            AnonymizationException error = e instanceof AnonymizationException known ? known
                    : new AnonymizationException("Anonymizing a " + r4.fhirType() + " failed: " + e.getClass().getSimpleName(), e);
            if (config.processingErrors() == ProcessingErrors.SKIP) {
                return new Result.Skipped(error);
            }
            throw error;
        }
    }

    /**
     * Parses JSON the way {@link #anonymize(byte[], String)} does (leniently, as the reference engine).
     *
     * @throws AnonymizationException when the bytes are not a FHIR R4 JSON resource
     */
    public IBaseResource parse(byte[] json, int offset, int length) {
        IParser parser = fhirContext.newJsonParser();
        // A Bundle entry's fullUrl must not become the id of its resource: ids are hashed, fullUrls redacted.
        parser.setOverrideResourceIdWithBundleEntryFullUrl(false);
        // Like the reference engine, take malformed primitive values as they are: rules still see and replace them.
        parser.setParserErrorHandler(new LenientErrorHandler(false).setErrorOnInvalidValue(false));
        try {
            int start = JsonWalk.byteOrderMark(json, offset, length);
            return (Resource) parser.parseResource(new ByteArrayInputStream(json, offset + start, length - start));
        } catch (DataFormatException | ClassCastException e) {
            throw new AnonymizationException("The input is not a FHIR R4 JSON resource", e);
        }
    }

    /** Minified JSON, as {@link #anonymize(byte[], String)} writes it. */
    public byte[] write(IBaseResource resource) {
        return writer.write((Resource) resource);
    }

    /** The pseudonym the {@code cryptoHash} method gives a value under this configuration's key. */
    public String pseudonym(String value) {
        return cryptoHash.hash(value);
    }

    /**
     * Anonymizes an R4 resource in place and returns it, or returns a new empty shell when it was skipped. Do not
     * share the resource with other threads while this runs.
     */
    public IBaseResource anonymize(IBaseResource resource, String scopeKey) {
        return switch (apply(resource, scopeKey)) {
            case Result.Anonymized a -> a.resource();
            case Result.Skipped s -> emptyShell(((Resource) resource).fhirType());
        };
    }


    private Resource emptyShell(String type) {
        Resource shell = (Resource) fhirContext.getResourceDefinition(type).newInstance();
        shell.getMeta().addSecurity(Operation.REDACT.label());
        return shell;
    }
}

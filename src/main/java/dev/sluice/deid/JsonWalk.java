package dev.sluice.deid;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.sluice.deid.ElementShapes.Shape;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.r4.model.Coding;

/**
 * De-identification without HAPI's model: a resource's JSON is read by the shapes of its type, each element is
 * given the rule that processes it ({@link WalkRules}), the same method code as the model engine's rewrites it, and
 * it is written in the model engine's order. It decides a resource only when it gives the model engine's bytes:
 * rules whose paths need FHIRPath, methods other than keep, redact, dateShift and cryptoHash, nested resources,
 * primitive extensions, a kept narrative and any failure are left to the model engine (null). Thread-safe.
 */
final class JsonWalk {

    private static final JsonFactory JSON = new JsonFactory();

    private final List<CompiledRule> rules;
    private final DateShiftScope dateShiftScope;
    private final ElementShapes shapes;
    private final Redaction redaction;
    private final DateShifter dateShifter;
    private final CryptoHash cryptoHash;
    private final Map<String, Optional<WalkRules>> rulesByType = new ConcurrentHashMap<>();

    JsonWalk(AnonymizationConfig config, ElementShapes shapes, Redaction redaction, DateShifter dateShifter, CryptoHash cryptoHash) {
        this.rules = config.compiledRules();
        this.dateShiftScope = config.parameters().dateShiftScope();
        this.shapes = shapes;
        this.redaction = redaction;
        this.dateShifter = dateShifter;
        this.cryptoHash = cryptoHash;
    }

    /** The anonymized resource as minified JSON, or null when the model engine must decide it. */
    byte[] anonymize(byte[] json, int offset, int length, String scopeKey) {
        int bom = length >= 3 && (json[offset] & 0xff) == 0xEF && (json[offset + 1] & 0xff) == 0xBB
                && (json[offset + 2] & 0xff) == 0xBF ? 3 : 0;
        try (JsonParser p = JSON.createParser(json, offset + bom, length - bom)) {
            // stored and exported resources name their type first; any other order is left to the model engine
            if (p.nextToken() != JsonToken.START_OBJECT || p.nextToken() != JsonToken.FIELD_NAME
                    || !"resourceType".equals(p.currentName()) || p.nextToken() != JsonToken.VALUE_STRING) {
                return null;
            }
            String type = p.getText();
            WalkRules typeRules = rulesByType.computeIfAbsent(type,
                    t -> Optional.ofNullable(WalkRules.compile(CompiledRule.applicableTo(rules, t)))).orElse(null);
            Shape shape = typeRules == null ? null : shapes.ofResource(type);
            if (shape == null) {
                return null;
            }
            JsonElement root = JsonElement.readResource(p, type, shape, shapes);
            if (p.nextToken() != null) {
                return null;
            }
            label(root, apply(root, typeRules, scopeKey));
            ByteArrayOutputStream out = new ByteArrayOutputStream(Math.max(256, length));
            try (JsonGenerator g = JSON.createGenerator(out)) {
                root.writeResource(g);
            }
            return out.toByteArray();
        } catch (IOException | RuntimeException undecided) {
            // JsonElement.Undecidable, malformed JSON, or a value a method cannot take: the model engine decides,
            // and reports the failure as processingErrors asks
            return null;
        }
    }

    private EnumSet<Operation> apply(JsonElement root, WalkRules typeRules, String scopeKey) {
        typeRules.assign(root);
        EnumSet<Operation> done = EnumSet.noneOf(Operation.class);
        // the date-shift prefix is the resource id as it stands when a date is shifted: hashed by then or not
        JsonElement id = root.child("id");
        String originalId = id == null || id.text() == null ? "" : id.text();
        if (originalId.indexOf('/') >= 0) {
            throw JsonElement.Undecidable.INSTANCE; // HAPI would read it as a URL
        }
        if (id != null) {
            addTo(done, process(id, typeRules, originalId));
        }
        String processedId = id == null || id.text() == null ? "" : id.text();
        String scoped = dateShiftScope != DateShiftScope.RESOURCE && scopeKey != null && !scopeKey.isEmpty() ? scopeKey : null;
        processAll(root, id, typeRules, done, scoped, originalId, processedId);
        return done;
    }

    private void processAll(JsonElement e, JsonElement id, WalkRules typeRules, EnumSet<Operation> done, String scoped,
            String originalId, String processedId) {
        if (e != id && e.rule >= 0) {
            String prefix = scoped != null ? scoped : id != null && id.rule >= 0 && id.rule < e.rule ? processedId : originalId;
            addTo(done, process(e, typeRules, prefix));
        }
        for (JsonElement child : e.children()) {
            processAll(child, id, typeRules, done, scoped, originalId, processedId);
        }
    }

    private Operation process(JsonElement e, WalkRules typeRules, String dateShiftPrefix) {
        if (e.rule < 0) {
            return null;
        }
        return switch (typeRules.method(e.rule)) {
            case Method.Keep keep -> null;
            case Method.Redact redact -> redaction.apply(e);
            case Method.DateShift shift -> dateShifter.apply(e, dateShiftPrefix);
            case Method.CryptoHash hash -> cryptoHash.apply(e);
            default -> throw JsonElement.Undecidable.INSTANCE;
        };
    }

    private static void addTo(EnumSet<Operation> done, Operation operation) {
        if (operation != null) {
            done.add(operation);
        }
    }

    /** meta.security labels and lastUpdated as {@code ResourceProcessor.label} leaves them. */
    private void label(JsonElement root, EnumSet<Operation> done) {
        if (done.isEmpty()) {
            return;
        }
        JsonElement meta = root.child("meta");
        if (meta == null) {
            meta = root.add("meta", null, shapes);
        }
        for (Operation operation : done) {
            boolean present = false;
            for (JsonElement security : meta.children()) {
                JsonElement code = "security".equals(security.name()) ? security.child("code") : null;
                present |= code != null && operation.code().equalsIgnoreCase(code.text());
            }
            if (!present) {
                Coding label = operation.label();
                JsonElement security = meta.add("security", null, shapes);
                if (label.hasSystem()) {
                    security.add("system", label.getSystem(), shapes);
                }
                security.add("code", label.getCode(), shapes);
                security.add("display", label.getDisplay(), shapes);
            }
        }
        JsonElement lastUpdated = meta.child("lastUpdated");
        if (lastUpdated != null && lastUpdated.text() != null) {
            lastUpdated.setText(FhirDates.referenceInstant(lastUpdated.text()));
        }
    }
}

package dev.sluice.deid;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.Coding;

/**
 * De-identification without HAPI's model: a resource's JSON bytes are read in place ({@link JsonCursor}) by the
 * shapes of its type, each element is given the rule that processes it ({@link WalkRules}), the same method code as
 * the model engine's rewrites it, and it is written in the model engine's order and bytes ({@link JsonOutput}). It
 * decides a resource only when it gives the model engine's bytes: rules whose paths need FHIRPath, methods other than
 * keep, redact, dateShift and cryptoHash, primitive extensions, a kept narrative and any failure are left to the model
 * engine (null). Thread-safe.
 */
final class JsonWalk {

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
        int bom = byteOrderMark(json, offset, length);
        try {
            JsonCursor cursor = new JsonCursor(json, offset + bom, length - bom);
            if (cursor.next() != JsonCursor.Token.START_OBJECT) {
                return null;
            }
            JsonElement root = JsonElement.readResource(cursor, shapes);
            if (cursor.next() != JsonCursor.Token.END) {
                return null;
            }
            String scoped = dateShiftScope != DateShiftScope.RESOURCE && scopeKey != null && !scopeKey.isEmpty() ? scopeKey : null;
            top(root, scoped);
            // room for what the walk adds (hashed ids are longer, security labels) without growing
            JsonOutput out = new JsonOutput(length + 1024);
            root.writeResource(out);
            return out.toByteArray();
        } catch (RuntimeException undecided) {
            // JsonElement.Undecidable, malformed JSON, or a value a method cannot take: the model engine decides,
            // and reports the failure as processingErrors asks
            return null;
        }
    }

    /** The length of a UTF-8 byte order mark at the start (3), else 0: both engines skip it. */
    static int byteOrderMark(byte[] json, int offset, int length) {
        return length >= 3 && (json[offset] & 0xff) == 0xEF && (json[offset + 1] & 0xff) == 0xBB
                && (json[offset + 2] & 0xff) == 0xBF ? 3 : 0;
    }

    private WalkRules rulesFor(String type) {
        WalkRules typeRules = rulesByType.computeIfAbsent(type,
                t -> Optional.ofNullable(WalkRules.compile(CompiledRule.applicableTo(rules, t)))).orElse(null);
        if (typeRules == null) {
            throw JsonElement.Undecidable.INSTANCE;
        }
        return typeRules;
    }

    /** The top resource, then the resources inside it, as {@code ResourceProcessor} goes. */
    private void top(JsonElement root, String scoped) {
        DateShifter.Offsets offsets = dateShifter.offsets();
        WalkRules typeRules = rulesFor(root.type());
        typeRules.assign(root);
        EnumSet<Operation> done = EnumSet.noneOf(Operation.class);
        // the date-shift prefix is the top resource's id as it stands when a date is shifted: hashed by then or not
        JsonElement id = root.child("id");
        String originalId = id == null || id.text() == null ? "" : id.text();
        if (originalId.indexOf('/') >= 0) {
            throw JsonElement.Undecidable.INSTANCE; // HAPI would read it as a URL
        }
        if (id != null) {
            addTo(done, process(id, typeRules, originalId, offsets));
        }
        String processedId = id == null || id.text() == null ? "" : id.text();
        List<JsonElement> nested = new ArrayList<>();
        processAll(root, e -> {
            if (e != id) {
                String prefix = scoped != null ? scoped : id != null && id.rule >= 0 && id.rule < e.rule ? processedId : originalId;
                addTo(done, process(e, typeRules, prefix, offsets));
            }
        }, nested);
        for (JsonElement resource : nested) {
            done.addAll(nested(resource, scoped != null ? scoped : processedId, offsets));
        }
        label(root, done);
    }

    /** A resource inside the top one: its own rules, with the top resource's date-shift prefix as it now stands. */
    private EnumSet<Operation> nested(JsonElement resource, String prefix, DateShifter.Offsets offsets) {
        WalkRules typeRules = rulesFor(resource.type());
        typeRules.assign(resource);
        EnumSet<Operation> done = EnumSet.noneOf(Operation.class);
        List<JsonElement> nested = new ArrayList<>();
        processAll(resource, e -> addTo(done, process(e, typeRules, prefix, offsets)), nested);
        for (JsonElement inner : nested) {
            done.addAll(nested(inner, prefix, offsets));
        }
        // contained resources are labelled through the resource that holds them; Bundle entries are labelled too
        if (!"contained".equals(resource.name())) {
            label(resource, done);
        }
        return done;
    }

    /** Every element of a resource in document order, up to the resources inside it, which go to {@code nested}. */
    private static void processAll(JsonElement e, Consumer<JsonElement> action, List<JsonElement> nested) {
        action.accept(e);
        // indexed: an iterator per element was a tenth of what the export's workers allocated
        List<JsonElement> children = e.children();
        for (int i = 0; i < children.size(); i++) {
            JsonElement child = children.get(i);
            if (child.isResource()) {
                nested.add(child);
            } else {
                processAll(child, action, nested);
            }
        }
    }

    private Operation process(JsonElement e, WalkRules typeRules, String dateShiftPrefix, DateShifter.Offsets offsets) {
        if (e.rule < 0) {
            return null;
        }
        return switch (typeRules.method(e.rule)) {
            case Method.Keep keep -> null;
            case Method.Redact redact -> redaction.apply(e);
            case Method.DateShift shift -> dateShifter.apply(e, dateShiftPrefix, offsets);
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

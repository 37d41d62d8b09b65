package dev.sluice.deid;

import dev.sluice.fhir.Sha256;
import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Turns configuration bytes into an {@link AnonymizationConfig}, refusing anything the engine could not run. */
final class ConfigReader {

    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    private static final SecureRandom RANDOM = new SecureRandom();

    private ConfigReader() {}

    /** Compiling needs a FHIRPath engine, which takes a while to build; this one is built on first use and only parses. */
    private static final class Compiler {
        static final PathEngine INSTANCE = new PathEngine(FhirContext.forR4Cached());
    }

    static AnonymizationConfig read(byte[] bytes) {
        JsonNode root;
        try {
            root = JSON.readTree(withoutByteOrderMark(bytes));
        } catch (JsonProcessingException e) {
            throw new AnonymizationConfigException("The configuration is not valid JSON: " + e.getOriginalMessage(), e);
        } catch (java.io.IOException e) {
            throw new AnonymizationConfigException("The configuration could not be read", e);
        }
        if (root == null || !root.isObject()) {
            throw new AnonymizationConfigException("The configuration must be a JSON object", null);
        }
        String fhirVersion = text(root.get("fhirVersion"));
        fhirVersion = fhirVersion == null ? "" : fhirVersion;
        if (!fhirVersion.isEmpty() && !fhirVersion.equalsIgnoreCase("R4")) {
            throw new AnonymizationConfigException("fhirVersion '" + fhirVersion + "' is not supported; expected R4 or empty", null);
        }
        ProcessingErrors processingErrors = processingErrors(root.get("processingErrors"));
        JsonNode rules = root.get("fhirPathRules");
        if (rules == null || rules.isNull()) {
            throw new AnonymizationConfigException("The configuration has no fhirPathRules", null);
        }
        if (!rules.isArray()) {
            throw new AnonymizationConfigException("fhirPathRules must be an array", null);
        }
        AnonymizationParameters parameters = parameters(root.get("parameters"));
        PathEngine compiler = Compiler.INSTANCE;
        List<CompiledRule> compiled = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            compiled.add(rule(i, rules.get(i), compiler));
        }
        return new AnonymizationConfig(fhirVersion.isEmpty() ? "" : "R4", processingErrors, parameters, Sha256.hex(bytes), compiled);
    }

    private static CompiledRule rule(int index, JsonNode json, PathEngine compiler) {
        if (json == null || !json.isObject()) {
            throw new AnonymizationConfigException(index, null, null, "a rule must be a JSON object", null);
        }
        String path = text(json.get("path"));
        String methodName = text(json.get("method"));
        if (path == null || path.isBlank()) {
            throw new AnonymizationConfigException(index, path, methodName, "the rule has no path", null);
        }
        if (methodName == null || methodName.isBlank()) {
            throw new AnonymizationConfigException(index, path, methodName, "the rule has no method", null);
        }
        RuleSettings settings = new RuleSettings(index, path, methodName, json, compiler);
        Method method = settings.method();
        Rule rule = new Rule(index, path, method);
        try {
            compiler.compile(path);
            return CompiledRule.compile(rule, compiler, settings.cases(method));
        } catch (RuntimeException e) {
            throw new AnonymizationConfigException(index, path, methodName, "the FHIRPath does not compile: " + e.getMessage(), e);
        }
    }

    /** Reads one rule's method and its settings, checking each against the reference engine's limits. */
    private record RuleSettings(int index, String path, String methodName, JsonNode json, PathEngine compiler) {

        Method method() {
            return switch (methodName.toLowerCase(Locale.ROOT)) {
                case "keep" -> new Method.Keep();
                case "redact" -> new Method.Redact();
                case "dateshift" -> new Method.DateShift();
                case "cryptohash" -> new Method.CryptoHash();
                case "encrypt" -> new Method.Encrypt();
                case "substitute" -> substitute();
                case "perturb" -> perturb();
                case "generalize" -> generalize();
                default -> throw refuse("method '" + methodName
                        + "' is not supported; use keep, redact, dateShift, cryptoHash, encrypt, substitute, perturb or generalize", null);
            };
        }

        List<CompiledRule.CompiledCase> cases(Method method) {
            if (!(method instanceof Method.Generalize generalize)) {
                return List.of();
            }
            List<CompiledRule.CompiledCase> compiled = new ArrayList<>();
            for (Method.Case c : generalize.cases()) {
                try {
                    compiled.add(new CompiledRule.CompiledCase(compiler.compile(c.predicate()), compiler.compile(c.value())));
                } catch (RuntimeException e) {
                    throw refuse("generalize case '" + c.predicate() + "': '" + c.value() + "' does not compile: " + e.getMessage(), e);
                }
            }
            return compiled;
        }

        private Method substitute() {
            if (!json.has("replaceWith")) {
                throw refuse("substitute needs a replaceWith value", null);
            }
            JsonNode replaceWith = json.get("replaceWith");
            return new Method.Substitute(replaceWith == null ? NullNode.getInstance() : replaceWith.deepCopy());
        }

        private Method perturb() {
            JsonNode spanJson = json.get("span");
            if (spanJson == null || spanJson.isNull()) {
                throw refuse("perturb needs a span", null);
            }
            Double span = number(spanJson);
            if (span == null || span.isNaN() || span.isInfinite() || span < 0) {
                throw refuse("span must be a number >= 0, got " + spanJson, null);
            }
            Integer roundTo = null;
            JsonNode roundToJson = json.get("roundTo");
            if (roundToJson != null && !roundToJson.isNull()) {
                roundTo = integer(roundToJson);
                if (roundTo == null || roundTo < 0 || roundTo > 28) {
                    throw refuse("roundTo must be an integer from 0 to 28, got " + roundToJson, null);
                }
            }
            Method.RangeType rangeType = Method.RangeType.FIXED;
            JsonNode rangeJson = json.get("rangeType");
            if (rangeJson != null && !rangeJson.isNull()) {
                String range = String.valueOf(text(rangeJson)).toLowerCase(Locale.ROOT);
                rangeType = switch (range) {
                    case "fixed" -> Method.RangeType.FIXED;
                    case "proportional" -> Method.RangeType.PROPORTIONAL;
                    default -> throw refuse("rangeType must be fixed or proportional, got " + rangeJson, null);
                };
            }
            return new Method.Perturb(span, rangeType, roundTo);
        }

        private Method generalize() {
            JsonNode casesJson = json.get("cases");
            if (casesJson == null || casesJson.isNull()) {
                throw refuse("generalize needs cases", null);
            }
            if (!casesJson.isObject()) {
                throw refuse("cases must be a JSON object of 'predicate': 'value' expressions", null);
            }
            List<Method.Case> cases = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = casesJson.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                cases.add(new Method.Case(entry.getKey(), entry.getValue().isValueNode() ? entry.getValue().asText() : entry.getValue().toString()));
            }
            Method.OtherValues otherValues = Method.OtherValues.REDACT;
            JsonNode otherJson = json.get("otherValues");
            if (otherJson != null && !otherJson.isNull()) {
                otherValues = switch (String.valueOf(text(otherJson)).toLowerCase(Locale.ROOT)) {
                    case "redact" -> Method.OtherValues.REDACT;
                    case "keep" -> Method.OtherValues.KEEP;
                    default -> throw refuse("otherValues must be redact or keep, got " + otherJson, null);
                };
            }
            return new Method.Generalize(cases, otherValues);
        }

        private AnonymizationConfigException refuse(String problem, Throwable cause) {
            return new AnonymizationConfigException(index, path, methodName, problem, cause);
        }
    }

    private static ProcessingErrors processingErrors(JsonNode json) {
        if (json == null || json.isNull()) {
            return ProcessingErrors.RAISE;
        }
        return switch (String.valueOf(text(json)).toLowerCase(Locale.ROOT)) {
            case "raise" -> ProcessingErrors.RAISE;
            case "skip" -> ProcessingErrors.SKIP;
            default -> throw new AnonymizationConfigException("processingErrors must be raise or skip, got " + json, null);
        };
    }

    private static AnonymizationParameters parameters(JsonNode json) {
        if (json != null && !json.isNull() && !json.isObject()) {
            throw new AnonymizationConfigException("parameters must be a JSON object", null);
        }
        JsonNode p = json == null ? NullNode.getInstance() : json;
        Set<String> randomKeys = new TreeSet<>();
        String dateShiftKey = orRandom("dateShiftKey", text(p.get("dateShiftKey")), randomKeys);
        DateShiftScope scope = DateShiftScope.RESOURCE;
        JsonNode scopeJson = p.get("dateShiftScope");
        if (scopeJson != null && !scopeJson.isNull()) {
            try {
                scope = DateShiftScope.valueOf(String.valueOf(text(scopeJson)).toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new AnonymizationConfigException("dateShiftScope must be resource, file, folder or patient, got " + scopeJson, e);
            }
        }
        Integer fixedOffset = null;
        JsonNode offsetJson = p.get("dateShiftFixedOffsetInDays");
        if (offsetJson != null && !offsetJson.isNull()) {
            fixedOffset = integer(offsetJson);
            if (fixedOffset == null) {
                throw new AnonymizationConfigException("dateShiftFixedOffsetInDays must be an integer, got " + offsetJson, null);
            }
        }
        String cryptoHashKey = orRandom("cryptoHashKey", text(p.get("cryptoHashKey")), randomKeys);
        String encryptKey = orRandom("encryptKey", text(p.get("encryptKey")), randomKeys);
        if (!randomKeys.contains("encryptKey")) {
            int bits = encryptKey.getBytes(StandardCharsets.UTF_8).length * 8;
            if (bits != 128 && bits != 192 && bits != 256) {
                throw new AnonymizationConfigException("encryptKey is " + bits + " bits; AES needs 128, 192 or 256 bits (16, 24 or 32 UTF-8 bytes)", null);
            }
        }
        List<String> zipAreas = new ArrayList<>();
        JsonNode zips = p.get("restrictedZipCodeTabulationAreas");
        if (zips != null && !zips.isNull()) {
            if (!zips.isArray()) {
                throw new AnonymizationConfigException("restrictedZipCodeTabulationAreas must be an array of strings", null);
            }
            zips.forEach(z -> zipAreas.add(z.asText()));
        }
        return new AnonymizationParameters(dateShiftKey, scope, fixedOffset, cryptoHashKey, encryptKey,
                flag(p, "enablePartialAgesForRedact"), flag(p, "enablePartialDatesForRedact"),
                flag(p, "enablePartialZipCodesForRedact"), zipAreas, randomKeys);
    }

    private static boolean flag(JsonNode parameters, String name) {
        JsonNode json = parameters.get(name);
        if (json == null || json.isNull()) {
            return false;
        }
        if (json.isBoolean()) {
            return json.booleanValue();
        }
        String text = json.asText().toLowerCase(Locale.ROOT);
        if (text.equals("true") || text.equals("false")) {
            return Boolean.parseBoolean(text);
        }
        throw new AnonymizationConfigException(name + " must be true or false, got " + json, null);
    }

    /** The reference engine picks a random key when none is configured; so does this one, per loaded configuration. */
    private static String orRandom(String name, String key, Set<String> random) {
        if (key == null || key.isEmpty()) {
            random.add(name);
            return randomKey();
        }
        return key;
    }

    private static String randomKey() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return java.util.HexFormat.of().formatHex(bytes);
    }

    private static String text(JsonNode json) {
        return json == null || json.isNull() ? null : json.isValueNode() ? json.asText() : json.toString();
    }

    /** A number or a numeric string, as the reference engine's Convert.ToDouble accepts. */
    private static Double number(JsonNode json) {
        if (json.isNumber()) {
            return json.doubleValue();
        }
        if (json.isTextual()) {
            try {
                return Double.parseDouble(json.asText().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    /** An integral number or an integer string, as Convert.ToInt32 accepts. */
    private static Integer integer(JsonNode json) {
        if (json.isIntegralNumber() && json.canConvertToInt()) {
            return json.intValue();
        }
        if (json.isTextual()) {
            try {
                return Integer.parseInt(json.asText().trim());
            } catch (NumberFormatException e) {
                return null;
            }
        }
        return null;
    }

    private static byte[] withoutByteOrderMark(byte[] bytes) {
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xEF && (bytes[1] & 0xff) == 0xBB && (bytes[2] & 0xff) == 0xBF) {
            return java.util.Arrays.copyOfRange(bytes, 3, bytes.length);
        }
        return bytes;
    }

}

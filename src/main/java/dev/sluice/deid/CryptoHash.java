package dev.sluice.deid;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The cryptoHash method: HMAC-SHA256 as lowercase hex. In {@code Reference.reference} only the id part of a literal
 * reference is hashed, so {@code Patient/123} becomes {@code Patient/<hash>} and still points at the hashed
 * {@code Patient.id}.
 *
 * <p>Design note: values repeat a lot (every Observation of a patient names the same Patient and Encounter), and the
 * HMAC of a short value costs microseconds, so results are kept in a bounded table of {@link #REMEMBERED} entries, one
 * per slot of the value's hash, the newest winning. Entries are immutable and replaced whole, so threads share the
 * table without locks: a race costs one more HMAC, never a wrong result (an entry answers only its own input).
 */
final class CryptoHash {

    /** Slots of the table of remembered results: a power of two. */
    static final int REMEMBERED = 4096;

    private record Remembered(boolean reference, String input, String output) {}

    private final Remembered[] remembered = new Remembered[REMEMBERED];
    private final Mac prototype;
    private final Pattern[] literalReferences;
    private final Set<String> resourceTypes;

    CryptoHash(String key, Set<String> resourceTypes) {
        try {
            prototype = Mac.getInstance("HmacSHA256");
            prototype.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
        this.resourceTypes = Set.copyOf(resourceTypes);
        String types = String.join("|", resourceTypes.stream().sorted().toList());
        literalReferences = new Pattern[] {
            Pattern.compile("^(?<prefix>((http|https)://([A-Za-z0-9\\\\/.:%$])*)?(" + types + ")/)(?<id>[A-Za-z0-9\\-.]{1,64})"
                    + "(?<suffix>/_history/[A-Za-z0-9\\-.]{1,64})?$"),
            Pattern.compile("^(?<prefix>urn:oid:)(?<id>[0-2](\\.(0|[1-9][0-9]*))+)(?<suffix>)$"),
            Pattern.compile("^(?<prefix>urn:uuid:)(?<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?<suffix>)$")
        };
    }

    Operation apply(Element node) {
        String value = node.text();
        if (value == null) {
            return null;
        }
        boolean reference = "reference".equals(node.name()) && "Reference".equals(node.parentType());
        node.setText(remembered(reference, value));
        return Operation.CRYPTOHASH;
    }

    /** {@link #hashReference} or {@link #hash} of the value, from the table when it was hashed lately. */
    String remembered(boolean reference, String value) {
        int slot = (value.hashCode() * 0x9E3779B9 >>> 16) & (REMEMBERED - 1);
        Remembered known = remembered[slot];
        if (known != null && known.reference() == reference && known.input().equals(value)) {
            return known.output();
        }
        String output = reference ? hashReference(value) : hash(value);
        remembered[slot] = new Remembered(reference, value, output);
        return output;
    }

    String hash(String value) {
        try {
            Mac mac = (Mac) prototype.clone();
            return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("HmacSHA256 cannot be cloned", e);
        }
    }

    /**
     * {@code Type/id} and {@code Type/id/_history/v}, the common case, read without the first pattern (whose
     * alternation of every resource type is most of the method's time) but with the same result; null for anything
     * else, which the patterns then read.
     */
    private String hashRelative(String reference) {
        if (reference.startsWith("http")) {
            return null;
        }
        int slash = reference.indexOf('/');
        if (slash <= 0 || !resourceTypes.contains(reference.substring(0, slash))) {
            return null;
        }
        int idEnd = reference.indexOf('/', slash + 1);
        if (idEnd < 0) {
            idEnd = reference.length();
        }
        String id = reference.substring(slash + 1, idEnd);
        String suffix = reference.substring(idEnd);
        if (!isIdText(id) || !suffix.isEmpty() && !(suffix.startsWith(HISTORY) && isIdText(suffix.substring(HISTORY.length())))) {
            return null;
        }
        return reference.substring(0, slash + 1) + hash(id) + suffix;
    }

    private static final String HISTORY = "/_history/";

    /** {@code [A-Za-z0-9\-.]{1,64}}, as in the first pattern. */
    private static boolean isIdText(String text) {
        if (text.isEmpty() || text.length() > 64) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
                return false;
            }
        }
        return true;
    }

    String hashReference(String reference) {
        if (reference.startsWith("#")) {
            return "#" + hash(reference.substring(1));
        }
        String relative = hashRelative(reference);
        return relative != null ? relative : hashByPatterns(reference);
    }

    /** The reference read by the patterns alone (what {@link #hashRelative} must agree with). */
    String hashByPatterns(String reference) {
        for (Pattern pattern : literalReferences) {
            Matcher m = pattern.matcher(reference);
            if (m.matches()) {
                String suffix = m.group("suffix") == null ? "" : m.group("suffix");
                return m.group("prefix") + hash(m.group("id")) + suffix;
            }
        }
        return hash(reference);
    }

}

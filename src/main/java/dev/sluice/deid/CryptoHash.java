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
 */
final class CryptoHash {

    private final Mac prototype;
    private final Pattern[] literalReferences;

    CryptoHash(String key, Set<String> resourceTypes) {
        try {
            prototype = Mac.getInstance("HmacSHA256");
            prototype.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
        String types = String.join("|", resourceTypes.stream().sorted().toList());
        literalReferences = new Pattern[] {
            Pattern.compile("^(?<prefix>((http|https)://([A-Za-z0-9\\\\/.:%$])*)?(" + types + ")/)(?<id>[A-Za-z0-9\\-.]{1,64})"
                    + "(?<suffix>/_history/[A-Za-z0-9\\-.]{1,64})?$"),
            Pattern.compile("^(?<prefix>urn:oid:)(?<id>[0-2](\\.(0|[1-9][0-9]*))+)(?<suffix>)$"),
            Pattern.compile("^(?<prefix>urn:uuid:)(?<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})(?<suffix>)$")
        };
    }

    Operation apply(Node node) {
        String value = node.text();
        if (value == null) {
            return null;
        }
        boolean reference = "reference".equals(node.name()) && node.parent() != null && "Reference".equals(node.parent().type());
        node.setText(reference ? hashReference(value) : hash(value));
        return Operation.CRYPTOHASH;
    }

    String hash(String value) {
        try {
            Mac mac = (Mac) prototype.clone();
            return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("HmacSHA256 cannot be cloned", e);
        }
    }

    private String hashReference(String reference) {
        if (reference.startsWith("#")) {
            return "#" + hash(reference.substring(1));
        }
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

package dev.sluice.deid;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Narrative;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.XhtmlType;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * One element of a resource with its parent and element name, which HAPI's model does not keep. Methods decide by
 * type, by name ({@code postalCode}) and by parent ({@code Reference.reference}, {@code Age.value}), as the reference
 * engine does.
 */
final class Node implements Element {

    private final Base value;
    private final Node parent;
    private final String name;
    private final List<Node> children = new ArrayList<>();

    Node(Base value, Node parent, String name) {
        this.value = value;
        this.parent = parent;
        this.name = name;
    }

    Base value() {
        return value;
    }

    Node parent() {
        return parent;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String type() {
        return value.fhirType();
    }

    @Override
    public String parentType() {
        return parent == null ? null : parent.type();
    }

    List<Node> children() {
        return children;
    }

    boolean isResource() {
        return value instanceof Resource;
    }

    /** The HAPI object several views of this element share; the key for "already visited" checks. */
    Object key() {
        return identityOf(value);
    }

    static Object identityOf(Base value) {
        // HAPI hands out a fresh XhtmlType wrapper on every access; the XHTML node behind it is stable.
        if (value instanceof XhtmlType xhtml && xhtml.getPlace() != null && xhtml.getPlace().getDiv() != null) {
            return xhtml.getPlace().getDiv();
        }
        return value;
    }

    boolean isResourceId() {
        return value instanceof IdType && parent != null && parent.isResource() && "id".equals(name);
    }

    @Override
    public String text() {
        if (!(value instanceof PrimitiveType<?> primitive)) {
            return null;
        }
        String text = isResourceId() ? ((IdType) value).getIdPart()
                : value instanceof XhtmlType xhtml ? xhtmlText(xhtml) : primitive.getValueAsString();
        return text == null || text.isEmpty() ? null : text;
    }

    /** Narrative.div as text; null when cleared (HAPI answers a cleared div with a new empty one). */
    static String xhtmlText(XhtmlType xhtml) {
        Narrative place = xhtml.getPlace();
        if (place == null || !place.hasDiv() || place.getDiv().isEmpty()) {
            return null;
        }
        return xhtml.primitiveValue();
    }

    /** May throw when HAPI rejects the text for the type. */
    @Override
    public void setText(String text) {
        if (value instanceof XhtmlType && parent != null && parent.value instanceof Narrative narrative) {
            narrative.setDiv(text == null ? null : divWithText(text));
        } else if (isResourceId()) {
            // setValue would parse slashes in hashes or ciphertext as a URL; the whole text is the id
            ((IdType) value).setParts(null, null, text, null);
        } else if (value instanceof PrimitiveType<?> primitive) {
            if (text == null) {
                primitive.setValue(null);
            } else {
                primitive.setValueAsString(text);
            }
        }
    }

    /** Rewrites an instant in the form the reference engine reads and writes it ({@link FhirDates#referenceInstant}). */
    void toReferenceInstant() {
        if (value instanceof InstantType instant && instant.getValueAsString() != null) {
            instant.setValueAsString(FhirDates.referenceInstant(instant.getValueAsString()));
        }
    }

    void selfAndDescendantsWithinResource(Consumer<Node> action) {
        action.accept(this);
        descendantsWithinResource(action);
    }

    void descendantsWithinResource(Consumer<Node> action) {
        for (Node child : children) {
            if (!child.isResource()) {
                action.accept(child);
                child.descendantsWithinResource(action);
            }
        }
    }

    private static XhtmlNode divWithText(String text) {
        XhtmlNode div = new XhtmlNode(NodeType.Element, "div");
        div.setAttribute("xmlns", "http://www.w3.org/1999/xhtml");
        div.addText(text);
        return div;
    }
}

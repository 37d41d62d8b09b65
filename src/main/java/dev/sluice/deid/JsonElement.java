package dev.sluice.deid;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.SerializedString;
import dev.sluice.deid.ElementShapes.ElementType;
import dev.sluice.deid.ElementShapes.Kind;
import dev.sluice.deid.ElementShapes.Member;
import dev.sluice.deid.ElementShapes.Shape;
import dev.sluice.deid.ElementShapes.Slot;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One element of a resource read straight from its JSON by the shapes of {@link ElementShapes}: what the JSON walk
 * works on instead of HAPI's model. Reading refuses ({@link Undecidable}) whatever the model engine could read
 * differently from the bytes: members the type does not have, primitive extensions ({@code _name}), values of the
 * wrong JSON kind.
 */
final class JsonElement implements Element {

    private static final SerializedString RESOURCE_TYPE = new SerializedString("resourceType");
    private static final Comparator<JsonElement> WRITTEN_ORDER = Comparator.comparingInt(e -> e.slot.order());

    private final ElementType type;
    /** The member of the parent's shape this element was read as; null for the top resource. */
    private final Member member;
    private final Slot slot;
    private final JsonElement parent;
    private final Shape shape;
    /** Shared and empty until a first child: most elements are primitives and never have one. */
    private List<JsonElement> children = List.of();
    private String text;
    private static final byte EMPTY = 1;
    private static final byte NOT_EMPTY = 2;
    /** 0 until writing asks {@link #isEmpty}: the rules have all run by then. */
    private byte emptiness;
    /** Index of the rule that processes this element (first match on it or an ancestor); -1 for none. */
    int rule = -1;

    private JsonElement(ElementType type, Member member, JsonElement parent, Shape shape) {
        this.type = type;
        this.member = member;
        this.slot = member == null ? null : member.slot();
        this.parent = parent;
        this.shape = shape;
    }

    /**
     * Reads a resource, the parser just past its {@code resourceType} member (which must come first: stored and
     * exported resources name their type first, any other order is left to the model engine).
     */
    static JsonElement readResource(JsonParser p, String resourceType, ElementShapes shapes) throws IOException {
        return readResource(p, resourceType, null, null, shapes);
    }

    private static JsonElement readResource(JsonParser p, String resourceType, Member member, JsonElement parent,
            ElementShapes shapes) throws IOException {
        Shape shape = shapes.ofResource(resourceType);
        if (shape == null) {
            throw Undecidable.INSTANCE;
        }
        JsonElement resource = new JsonElement(new ElementType(resourceType, Kind.RESOURCE, JsonPrimitive.STRING, false, null),
                member, parent, shape);
        resource.readMembers(p, shapes);
        return resource;
    }

    @Override
    public String type() {
        return type.fhirType();
    }

    @Override
    public String name() {
        return slot == null ? null : slot.name();
    }

    @Override
    public String parentType() {
        return parent == null ? null : parent.type();
    }

    @Override
    public String text() {
        return text == null || text.isEmpty() ? null : text;
    }

    @Override
    public void setText(String text) {
        if (text != null && type.enumeration()) {
            throw Undecidable.INSTANCE; // HAPI refuses a code outside its value set: the model engine reports it
        }
        this.text = text;
    }

    JsonElement parent() {
        return parent;
    }

    Member member() {
        return member;
    }

    List<JsonElement> children() {
        return children;
    }

    /** A resource: the top one or one inside it (contained, a Bundle entry), each processed with its own rules. */
    boolean isResource() {
        return type.kind() == Kind.RESOURCE;
    }

    /** The child of this name, or null. */
    JsonElement child(String name) {
        for (JsonElement child : children) {
            if (child.slot.name().equals(name)) {
                return child;
            }
        }
        return null;
    }

    /** Adds a child of the member of this name (a plain element, no choice), e.g. meta and its labels. */
    JsonElement add(String jsonName, String text, ElementShapes shapes) {
        Member member = shape.member(jsonName);
        if (member == null) {
            throw new IllegalStateException(type() + " has no " + jsonName);
        }
        JsonElement child = new JsonElement(member.type(), member, this,
                member.type().kind() == Kind.COMPOSITE ? member.shape(shapes) : null);
        child.text = text;
        adopt(child);
        return child;
    }

    private void adopt(JsonElement child) {
        if (children.isEmpty()) {
            children = new ArrayList<>(4);
        }
        children.add(child);
    }

    private void readMembers(JsonParser p, ElementShapes shapes) throws IOException {
        JsonToken token;
        while ((token = p.nextToken()) == JsonToken.FIELD_NAME) {
            Member member = shape.member(p.currentName());
            if (member == null) {
                throw Undecidable.INSTANCE;
            }
            token = p.nextToken();
            if (token == JsonToken.START_ARRAY) {
                if (!member.slot().list()) {
                    throw Undecidable.INSTANCE;
                }
                while ((token = p.nextToken()) != JsonToken.END_ARRAY) {
                    readValue(p, token, member, shapes);
                }
            } else if (member.slot().list()) {
                throw Undecidable.INSTANCE;
            } else {
                readValue(p, token, member, shapes);
            }
        }
        if (token != JsonToken.END_OBJECT) {
            throw Undecidable.INSTANCE;
        }
    }

    private void readValue(JsonParser p, JsonToken token, Member member, ElementShapes shapes) throws IOException {
        ElementType valueType = member.type();
        if (valueType.kind() == Kind.RESOURCE) {
            if (token != JsonToken.START_OBJECT || p.nextToken() != JsonToken.FIELD_NAME
                    || !"resourceType".equals(p.currentName()) || p.nextToken() != JsonToken.VALUE_STRING) {
                throw Undecidable.INSTANCE;
            }
            adopt(readResource(p, p.getText(), member, this, shapes));
            return;
        }
        if (valueType.kind() == Kind.COMPOSITE) {
            if (token != JsonToken.START_OBJECT) {
                throw Undecidable.INSTANCE;
            }
            JsonElement child = new JsonElement(valueType, member, this, member.shape(shapes));
            adopt(child);
            child.readMembers(p, shapes);
            return;
        }
        boolean fits = switch (valueType.primitive()) {
            case BOOLEAN -> token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE;
            case NUMBER -> token == JsonToken.VALUE_NUMBER_INT || token == JsonToken.VALUE_NUMBER_FLOAT;
            case STRING -> token == JsonToken.VALUE_STRING;
        };
        if (!fits) {
            throw Undecidable.INSTANCE;
        }
        JsonElement child = new JsonElement(valueType, member, this, null);
        // the model engine's rules see instants as the reference holds them (FhirDates.referenceInstant)
        child.text = valueType.isInstant() ? FhirDates.referenceInstant(p.getText()) : p.getText();
        adopt(child);
    }

    /** Writes the resource as {@link ResourceJsonWriter} writes the model engine's: emptied elements left out. */
    void writeResource(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeFieldName(RESOURCE_TYPE);
        g.writeString(type());
        writeChildren(g);
        g.writeEndObject();
    }

    private void writeChildren(JsonGenerator g) throws IOException {
        // read in document order, which is nearly always the written order: sort a copy only when it is not
        List<JsonElement> written = children;
        for (int i = 1; i < children.size(); i++) {
            if (children.get(i - 1).slot.order() > children.get(i).slot.order()) {
                written = new ArrayList<>(children);
                written.sort(WRITTEN_ORDER);
                break;
            }
        }
        for (int i = 0; i < written.size(); ) {
            Slot slot = written.get(i).slot;
            int end = i;
            JsonElement first = null;
            while (end < written.size() && written.get(end).slot == slot) {
                if (first == null && !written.get(end).isEmpty()) {
                    first = written.get(end);
                }
                end++;
            }
            if (first != null) {
                // emptied elements are left out, and a slot with nothing left is not written
                g.writeFieldName(first.member.jsonName());
                if (slot.list()) {
                    g.writeStartArray();
                }
                for (int j = i; j < end; j++) {
                    JsonElement child = written.get(j);
                    if (child == first || !child.isEmpty()) {
                        child.writeValue(g);
                    }
                }
                if (slot.list()) {
                    g.writeEndArray();
                }
            }
            i = end;
        }
    }

    private void writeValue(JsonGenerator g) throws IOException {
        switch (type.kind()) {
            case COMPOSITE -> {
                g.writeStartObject();
                writeChildren(g);
                g.writeEndObject();
            }
            case PRIMITIVE -> type.primitive().write(g, text);
            case RESOURCE -> writeResource(g);
            // HAPI re-serializes a narrative it keeps: only an emptied one is decided here
            case XHTML -> throw Undecidable.INSTANCE;
        }
    }

    /** Whether writing leaves this element out; known once asked, as writing asks at every level. */
    private boolean isEmpty() {
        if (emptiness == 0) {
            emptiness = emptiness() ? EMPTY : NOT_EMPTY;
        }
        return emptiness == EMPTY;
    }

    private boolean emptiness() {
        if (type.kind() == Kind.RESOURCE) {
            return false; // an emptied contained resource stays, as in the reference engine
        }
        if (type.kind() == Kind.PRIMITIVE || type.kind() == Kind.XHTML) {
            return text() == null;
        }
        for (JsonElement child : children) {
            if (!child.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** The walk cannot decide this resource as the model engine would: the model engine must. */
    static final class Undecidable extends RuntimeException {
        static final Undecidable INSTANCE = new Undecidable();

        private Undecidable() {
            super("left to the model engine", null, false, false);
        }
    }
}

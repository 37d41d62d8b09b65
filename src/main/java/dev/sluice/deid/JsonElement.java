package dev.sluice.deid;

import dev.sluice.deid.ElementShapes.ElementType;
import dev.sluice.deid.ElementShapes.Kind;
import dev.sluice.deid.ElementShapes.Member;
import dev.sluice.deid.ElementShapes.Shape;
import dev.sluice.deid.ElementShapes.Slot;
import dev.sluice.deid.JsonCursor.Token;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One element of a resource read straight from its JSON by the shapes of {@link ElementShapes}: what the JSON walk
 * works on instead of HAPI's model. A primitive keeps the span of its value in the input, and is decoded only when a
 * rule asks for its text; one no rule changed is written back as those bytes. Reading refuses ({@link Undecidable})
 * whatever the model engine could read or write differently from the bytes: members the type does not have, a member
 * given twice, primitive extensions ({@code _name}), values of the wrong JSON kind, numbers not written as the model
 * engine writes them.
 */
final class JsonElement implements Element {

    private static final byte[] RESOURCE_TYPE = "resourceType".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RESOURCE_TYPE_MEMBER = "{\"resourceType\":".getBytes(StandardCharsets.US_ASCII);
    private static final Comparator<JsonElement> WRITTEN_ORDER = Comparator.comparingInt(e -> e.slot.order());

    private final ElementType type;
    /** The member of the parent's shape this element was read as; null for the top resource. */
    private final Member member;
    private final Slot slot;
    private final JsonElement parent;
    private final Shape shape;
    /** Shared and empty until a first child: most elements are primitives and never have one. */
    private List<JsonElement> children = List.of();
    /** A primitive's value in the input: a string's span inside its quotes, a number's or a boolean's text. */
    private byte[] source;
    private int start;
    private int end;
    /** The span has no escape, so its bytes are what Jackson writes for its value. */
    private boolean plain;
    /** The value as text: decoded from the span when first asked, or set by a rule or the walk. */
    private String text;
    /** A rule or the walk set the text: it is written from the text, no longer from the span. */
    private boolean edited;
    /**
     * This element or one below it was read empty or emptied since: only then can writing leave it out, and only then
     * does it look at its children to know (most elements keep their values, and asking each of them was a fifth of
     * the export's CPU).
     */
    private boolean mayBeEmpty;
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
     * Reads a resource, the cursor just past its opening brace. Its {@code resourceType} must come first: stored and
     * exported resources name their type first, any other order is left to the model engine.
     */
    static JsonElement readResource(JsonCursor c, ElementShapes shapes) {
        return readResource(c, null, null, shapes);
    }

    private static JsonElement readResource(JsonCursor c, Member member, JsonElement parent, ElementShapes shapes) {
        if (c.next() != Token.NAME || !c.is(RESOURCE_TYPE) || c.next() != Token.STRING || !c.plain()) {
            throw Undecidable.INSTANCE;
        }
        String resourceType = c.text();
        Shape shape = shapes.ofResource(resourceType);
        if (shape == null) {
            throw Undecidable.INSTANCE;
        }
        JsonElement resource = new JsonElement(new ElementType(resourceType, Kind.RESOURCE, JsonPrimitive.STRING, false, null),
                member, parent, shape);
        resource.readMembers(c, shapes);
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
        if (text == null && !edited && source != null) {
            text = JsonCursor.decode(source, start, end, plain);
        }
        return text == null || text.isEmpty() ? null : text;
    }

    @Override
    public void setText(String text) {
        if (text != null && type.enumeration()) {
            throw Undecidable.INSTANCE; // HAPI refuses a code outside its value set: the model engine reports it
        }
        this.text = text;
        this.edited = true;
        if (text == null || text.isEmpty()) {
            markMayBeEmpty();
        }
    }

    private void markMayBeEmpty() {
        for (JsonElement e = this; e != null && !e.mayBeEmpty; e = e.parent) {
            e.mayBeEmpty = true;
        }
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
        for (int i = 0; i < children.size(); i++) {
            JsonElement child = children.get(i);
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
        child.edited = true;
        adopt(child);
        if (text == null || text.isEmpty()) {
            child.markMayBeEmpty(); // a composite is empty until it is given children
        }
        return child;
    }

    private void adopt(JsonElement child) {
        if (children.isEmpty()) {
            children = new ArrayList<>(4);
        }
        children.add(child);
    }

    private void readMembers(JsonCursor c, ElementShapes shapes) {
        long slotsRead = 0;
        Token token;
        while ((token = c.next()) == Token.NAME) {
            Member member = c.plain() ? shape.member(c.source(), c.start(), c.end()) : null;
            if (member == null) {
                throw Undecidable.INSTANCE;
            }
            // a member given twice (or two types of one choice): the model engine keeps one, the walk would write both
            int order = member.slot().order();
            if (order < Long.SIZE ? (slotsRead & 1L << order) != 0 : hasChildOf(member.slot())) {
                throw Undecidable.INSTANCE;
            }
            slotsRead |= order < Long.SIZE ? 1L << order : 0;
            token = c.next();
            if (token == Token.START_ARRAY) {
                if (!member.slot().list()) {
                    throw Undecidable.INSTANCE;
                }
                while ((token = c.next()) != Token.END_ARRAY) {
                    readValue(c, token, member, shapes);
                }
            } else if (member.slot().list()) {
                throw Undecidable.INSTANCE;
            } else {
                readValue(c, token, member, shapes);
            }
        }
        if (token != Token.END_OBJECT) {
            throw Undecidable.INSTANCE;
        }
    }

    private boolean hasChildOf(Slot slot) {
        for (int i = 0; i < children.size(); i++) {
            if (children.get(i).slot == slot) {
                return true;
            }
        }
        return false;
    }

    private void readValue(JsonCursor c, Token token, Member member, ElementShapes shapes) {
        ElementType valueType = member.type();
        if (valueType.kind() == Kind.RESOURCE) {
            if (token != Token.START_OBJECT) {
                throw Undecidable.INSTANCE;
            }
            adopt(readResource(c, member, this, shapes));
            return;
        }
        if (valueType.kind() == Kind.COMPOSITE) {
            if (token != Token.START_OBJECT) {
                throw Undecidable.INSTANCE;
            }
            JsonElement child = new JsonElement(valueType, member, this, member.shape(shapes));
            adopt(child);
            child.readMembers(c, shapes);
            if (child.children.isEmpty()) {
                child.markMayBeEmpty();
            }
            return;
        }
        boolean fits = switch (valueType.primitive()) {
            case BOOLEAN -> token == Token.TRUE || token == Token.FALSE;
            case NUMBER -> token == Token.NUMBER && JsonPrimitive.writtenAsRead(valueType.fhirType(), c.source(), c.start(), c.end());
            case STRING -> token == Token.STRING;
        };
        if (!fits) {
            throw Undecidable.INSTANCE;
        }
        JsonElement child = new JsonElement(valueType, member, this, null);
        child.source = c.source();
        child.start = c.start();
        child.end = c.end();
        child.plain = token != Token.STRING || c.plain();
        if (valueType.isInstant()) {
            // the model engine's rules see instants as the reference holds them (FhirDates.referenceInstant)
            String read = child.text();
            String held = read == null ? null : FhirDates.referenceInstant(read);
            if (held != null && !held.equals(read)) {
                child.text = held;
                child.edited = true;
            }
        }
        adopt(child);
        if (child.start == child.end) {
            child.markMayBeEmpty();
        }
    }

    /** Writes the resource as {@link ResourceJsonWriter} writes the model engine's: emptied elements left out. */
    void writeResource(JsonOutput out) {
        out.write(RESOURCE_TYPE_MEMBER);
        out.string(type());
        writeChildren(out, false);
        out.write((byte) '}');
    }

    /** The members of this element; {@code first} when none was written before them in its object. */
    private void writeChildren(JsonOutput out, boolean first) {
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
            JsonElement firstValue = null;
            while (end < written.size() && written.get(end).slot == slot) {
                if (firstValue == null && !written.get(end).isEmpty()) {
                    firstValue = written.get(end);
                }
                end++;
            }
            if (firstValue != null) {
                // emptied elements are left out, and a slot with nothing left is not written
                if (!first) {
                    out.write((byte) ',');
                }
                first = false;
                out.write(firstValue.member.written());
                if (slot.list()) {
                    out.write((byte) '[');
                }
                for (int j = i; j < end; j++) {
                    JsonElement child = written.get(j);
                    if (child == firstValue) {
                        child.writeValue(out);
                    } else if (!child.isEmpty()) {
                        out.write((byte) ',');
                        child.writeValue(out);
                    }
                }
                if (slot.list()) {
                    out.write((byte) ']');
                }
            }
            i = end;
        }
    }

    private void writeValue(JsonOutput out) {
        switch (type.kind()) {
            case COMPOSITE -> {
                out.write((byte) '{');
                writeChildren(out, true);
                out.write((byte) '}');
            }
            case PRIMITIVE -> writePrimitive(out);
            case RESOURCE -> writeResource(out);
            // HAPI re-serializes a narrative it keeps: only an emptied one is decided here
            case XHTML -> throw Undecidable.INSTANCE;
        }
    }

    private void writePrimitive(JsonOutput out) {
        if (!edited && plain) {
            // a string's quotes are copied with it
            int quote = type.primitive() == JsonPrimitive.STRING ? 1 : 0;
            out.copy(source, start - quote, end + quote);
            return;
        }
        switch (type.primitive()) {
            case BOOLEAN -> out.ascii(Boolean.toString(Boolean.parseBoolean(text)));
            case NUMBER -> out.ascii(text);
            case STRING -> out.string(text());
        }
    }

    /** Whether writing leaves this element out; known once asked, as writing asks at every level. */
    private boolean isEmpty() {
        if (!mayBeEmpty) {
            return false;
        }
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
            // an empty string is no value; a span is not decoded to know it
            return edited || source == null ? text == null || text.isEmpty() : start == end;
        }
        for (int i = 0; i < children.size(); i++) {
            if (!children.get(i).isEmpty()) {
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

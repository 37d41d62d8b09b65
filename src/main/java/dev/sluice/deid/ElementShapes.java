package dev.sluice.deid;

import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Enumeration;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.XhtmlType;

/**
 * The elements each FHIR type may hold, in the order {@link ResourceJsonWriter} writes them, read once per HAPI class
 * from an empty instance's {@code children()} (the same list the writer walks, so the order is the same by
 * construction). The JSON walk reads and writes resources by these shapes without building HAPI's model.
 */
final class ElementShapes {

    private final FhirContext fhirContext;
    private final Map<Class<?>, Shape> byClass = new ConcurrentHashMap<>();
    private final Map<String, Optional<Shape>> byResourceType = new ConcurrentHashMap<>();

    ElementShapes(FhirContext fhirContext) {
        this.fhirContext = fhirContext;
    }

    /** The shape of a resource type, or null when HAPI does not know the type. */
    Shape ofResource(String resourceType) {
        // by name, so that a resource read does not make an empty HAPI resource to find its class
        return byResourceType.computeIfAbsent(resourceType, type -> {
            try {
                return Optional.of(of((Base) fhirContext.getResourceDefinition(type).newInstance()));
            } catch (RuntimeException unknown) {
                return Optional.empty();
            }
        }).orElse(null);
    }

    Shape of(Base template) {
        Shape shape = byClass.get(template.getClass());
        if (shape == null) {
            shape = read(template);
            byClass.put(template.getClass(), shape);
        }
        return shape;
    }

    /** What a value of one element is: its FHIR type and how it is held. */
    record ElementType(String fhirType, Kind kind, JsonPrimitive primitive, boolean enumeration, Base template) {
        boolean isInstant() {
            return "instant".equals(fhirType);
        }
    }

    /** A resource inside a resource, of a type its JSON names. */
    static final ElementType NESTED_RESOURCE = new ElementType("Resource", Kind.RESOURCE, JsonPrimitive.STRING, false, null);

    /** The kinds of values the walk treats differently. */
    enum Kind { PRIMITIVE, XHTML, COMPOSITE, RESOURCE }

    /**
     * One element of a shape: its name without {@code [x]}, its place in the written order, whether it repeats; for an
     * element of one type, that type.
     */
    record Slot(String name, int order, boolean list, boolean choice, String typeCode, ElementType type) {}

    /**
     * A JSON member resolved against a shape: which element, holding which type. One instance per shape and member
     * name, compared by identity: the walk keys its per-path rule decisions by it ({@link WalkRules}).
     */
    static final class Member {
        private final Slot slot;
        private final ElementType type;
        private final byte[] written;

        Member(Slot slot, ElementType type) {
            this.slot = slot;
            this.type = type;
            String name = slot.choice() ? slot.name() + JsonPrimitive.choiceSuffix(type.fhirType()) : slot.name();
            // encoded once: the walk writes every member's name, and encoding it per element was part of its cost
            this.written = ('"' + name + "\":").getBytes(StandardCharsets.US_ASCII);
        }

        /** The member's name as JSON writes it ({@code valueQuantity} for a choice), quoted, with its colon. */
        byte[] written() {
            return written;
        }

        Slot slot() {
            return slot;
        }

        ElementType type() {
            return type;
        }

        /** The shape of this member's composite type, looked up once (a map lookup per element was 3 % of the walk). */
        Shape shape(ElementShapes shapes) {
            Shape known = shape;
            if (known == null) {
                // a race makes the same lookup twice; Shape's fields are final, so any thread may read the one it gets
                known = shapes.of(type.template());
                shape = known;
            }
            return known;
        }

        private Shape shape;
    }

    /** The elements of one type, and the JSON member names that reach them. */
    final class Shape {
        private final List<Slot> slots;
        /** Replaced whole under the lock, read without it. */
        private volatile MemberTable members = MemberTable.EMPTY;
        private final List<Slot> choices = new ArrayList<>();
        private final Map<String, Slot> byName = new HashMap<>();

        private Shape(List<Slot> slots) {
            this.slots = List.copyOf(slots);
            for (Slot slot : slots) {
                if (slot.choice()) {
                    choices.add(slot);
                } else {
                    byName.put(slot.name(), slot);
                }
            }
        }

        List<Slot> slots() {
            return slots;
        }

        /** The element a JSON member name stands for, or null when this type has none of that name. */
        Member member(String jsonName) {
            byte[] name = jsonName.getBytes(StandardCharsets.UTF_8);
            return member(name, 0, name.length);
        }

        /** {@link #member(String)} of a name as the input spells it, found by its bytes: no string per member read. */
        Member member(byte[] json, int start, int end) {
            Member member = members.find(json, start, end);
            return member != null ? member : add(json, start, end);
        }

        private synchronized Member add(byte[] json, int start, int end) {
            Member member = members.find(json, start, end);
            if (member == null) {
                // a name not ASCII is no FHIR element: it resolves to none, and is not remembered
                member = resolve(new String(json, start, end - start, StandardCharsets.ISO_8859_1));
                if (member != null) {
                    members = members.with(Arrays.copyOfRange(json, start, end), member);
                }
            }
            return member;
        }

        private Member resolve(String jsonName) {
            Slot slot = byName.get(jsonName);
            if (slot != null) {
                return slot.type() == null ? null : new Member(slot, slot.type());
            }
            for (Slot choice : choices) {
                String suffix = jsonName.startsWith(choice.name()) ? jsonName.substring(choice.name().length()) : "";
                if (suffix.isEmpty() || !Character.isUpperCase(suffix.charAt(0)) || !allows(choice.typeCode(), suffix)) {
                    continue;
                }
                BaseRuntimeElementDefinition<?> definition = fhirContext.getElementDefinition(suffix);
                if (definition == null) {
                    continue;
                }
                ElementType type = typeOf(definition.newInstance());
                // HAPI would read e.g. valueSimpleQuantity differently; only the name the writer gives back is decided
                if (type != null && jsonName.equals(choice.name() + JsonPrimitive.choiceSuffix(type.fhirType()))) {
                    return new Member(choice, type);
                }
            }
            return null;
        }
    }

    private static boolean allows(String typeCode, String suffix) {
        if (typeCode.equals("*")) {
            return true;
        }
        for (String type : typeCode.replaceAll("\\([^)]*\\)", "").split("\\|")) {
            // a profiled quantity is written (and read by HAPI) under the name of its base type
            String written = JsonPrimitive.choiceSuffix(type.trim());
            if (written.toLowerCase(Locale.ROOT).equals(suffix.toLowerCase(Locale.ROOT))) {
                return true;
            }
        }
        return false;
    }

    private Shape read(Base template) {
        List<Slot> slots = new ArrayList<>();
        int order = 0;
        for (Property property : template.children()) {
            String name = property.getName();
            boolean choice = name.endsWith("[x]");
            if (choice) {
                name = name.substring(0, name.length() - 3);
            }
            ElementType type = null;
            if ("xhtml".equals(property.getTypeCode())) {
                // HAPI answers Narrative.div with a StringType template, but keeps the div as parsed XHTML
                type = new ElementType("xhtml", Kind.XHTML, JsonPrimitive.STRING, false, null);
            } else if (!choice) {
                try {
                    type = typeOf(template.makeProperty(property.getName().hashCode(), property.getName()));
                } catch (RuntimeException notComposite) {
                    type = typeFromCode(property.getTypeCode());
                }
            }
            slots.add(new Slot(name, order++, property.isList(), choice, property.getTypeCode(), type));
        }
        return new Shape(slots);
    }

    private ElementType typeFromCode(String typeCode) {
        if ("Resource".equals(typeCode)) {
            return NESTED_RESOURCE; // contained, Bundle.entry.resource: the JSON names the type
        }
        if (typeCode == null || typeCode.isEmpty() || typeCode.contains("|") || typeCode.contains("(")) {
            return null;
        }
        try {
            BaseRuntimeElementDefinition<?> definition = fhirContext.getElementDefinition(typeCode);
            return definition == null ? null : typeOf(definition.newInstance());
        } catch (RuntimeException abstractType) {
            return null; // an abstract type: the walk leaves it to the model engine
        }
    }

    private static ElementType typeOf(Object value) {
        if (!(value instanceof Base base)) {
            return null;
        }
        Kind kind = base instanceof Resource ? Kind.RESOURCE
                : base instanceof XhtmlType ? Kind.XHTML
                : base instanceof PrimitiveType<?> ? Kind.PRIMITIVE
                : Kind.COMPOSITE;
        return new ElementType(base.fhirType(), kind, JsonPrimitive.of(base), base instanceof Enumeration<?>, base);
    }

    /** Member names as bytes and their members: an open-addressing table, immutable, a power of two long. */
    private record MemberTable(byte[][] names, Member[] members, int count) {
        static final MemberTable EMPTY = new MemberTable(new byte[8][], new Member[8], 0);

        Member find(byte[] json, int start, int end) {
            int mask = names.length - 1;
            for (int i = hash(json, start, end) & mask; ; i = (i + 1) & mask) {
                byte[] name = names[i];
                if (name == null) {
                    return null;
                }
                if (same(name, json, start, end)) {
                    return members[i];
                }
            }
        }

        /** Member names are short: a plain loop beats {@code Arrays.equals}' vectorized mismatch here. */
        private static boolean same(byte[] name, byte[] json, int start, int end) {
            if (name.length != end - start) {
                return false;
            }
            for (int i = 0; i < name.length; i++) {
                if (name[i] != json[start + i]) {
                    return false;
                }
            }
            return true;
        }

        MemberTable with(byte[] name, Member member) {
            // at most half full, so that a miss ends soon
            int size = names.length;
            while ((count + 1) * 2 > size) {
                size *= 2;
            }
            MemberTable table = new MemberTable(new byte[size][], new Member[size], count + 1);
            for (int i = 0; i < names.length; i++) {
                if (names[i] != null) {
                    table.put(names[i], members[i]);
                }
            }
            table.put(name, member);
            return table;
        }

        private void put(byte[] name, Member member) {
            int mask = names.length - 1;
            int i = hash(name, 0, name.length) & mask;
            while (names[i] != null) {
                i = (i + 1) & mask;
            }
            names[i] = name;
            members[i] = member;
        }

        /** Length and three of its bytes: enough to tell one type's member names apart, and no loop per lookup. */
        private static int hash(byte[] b, int start, int end) {
            int length = end - start;
            if (length == 0) {
                return 0;
            }
            int h = length * 0x9E3779B9 + b[start] * 31 + b[start + length / 2] * 961 + b[end - 1] * 29791;
            return h ^ h >>> 16;
        }
    }
}

package dev.sluice.deid;

import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimePrimitiveDatatypeDefinition;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.XhtmlType;

/**
 * The substitute method, with the reference engine's merge: children named in the replacement are replaced pairwise
 * (extra ones added, surplus ones dropped), other children are dropped, except that anything an earlier rule already
 * processed is kept as it is, together with the ancestors that hold it. A dropped element is emptied in place; the
 * writer leaves empty elements out.
 */
final class Substitution {

    private final FhirContext fhirContext;

    Substitution(FhirContext fhirContext) {
        this.fhirContext = fhirContext;
    }

    Operation apply(Node node, JsonNode replaceWith, Set<Object> visited) {
        Base target = node.value();
        JsonNode replacement;
        if (target.isPrimitive()) {
            replacement = replaceWith == null || replaceWith.isNull() ? NullNode.getInstance()
                    : TextNode.valueOf(replaceWith.isValueNode() ? replaceWith.asText() : replaceWith.toString());
        } else if (replaceWith == null || replaceWith.isNull()) {
            replacement = JsonNodeFactory.instance.objectNode();
        } else if (replaceWith.isObject()) {
            replacement = replaceWith;
        } else {
            throw new AnonymizationException("substitute: a " + node.type() + " needs a JSON object as replaceWith", null);
        }
        Set<Object> keep = Collections.newSetFromMap(new IdentityHashMap<>());
        collectKept(target, visited, keep);
        new Merge(visited, keep).into(target, replacement);
        if (target.isPrimitive()) {
            node.setText(replacement.isNull() ? null : replacement.asText());
        }
        markVisited(target, visited);
        return Operation.SUBSTITUTE;
    }

    /** One substitution: the nodes earlier rules processed, and their ancestors, which must survive it. */
    private final class Merge {
        private final Set<Object> visited;
        private final Set<Object> keep;

        Merge(Set<Object> visited, Set<Object> keep) {
            this.visited = visited;
            this.keep = keep;
        }

        void into(Base base, JsonNode replacement) {
            if (visited.contains(Node.identityOf(base))) {
                return;
            }
            Map<String, List<Base>> current = children(base);
            Set<String> replaced = new HashSet<>();
            if (replacement.isObject()) {
                for (Iterator<Map.Entry<String, JsonNode>> it = replacement.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> field = it.next();
                    if (field.getKey().startsWith("_") || field.getKey().equals("resourceType")) {
                        continue;
                    }
                    String element = elementName(base, field.getKey());
                    replaced.add(element);
                    List<JsonNode> targets = new ArrayList<>();
                    if (field.getValue().isArray()) {
                        field.getValue().forEach(targets::add);
                    } else {
                        targets.add(field.getValue());
                    }
                    int i = 0;
                    for (Base child : current.getOrDefault(element, List.of())) {
                        if (visited.contains(Node.identityOf(child))) {
                            i++;
                        } else if (i < targets.size()) {
                            into(child, targets.get(i++));
                        } else {
                            dropOrEmpty(child);
                        }
                    }
                    while (i < targets.size()) {
                        add(base, field.getKey(), element, targets.get(i++));
                    }
                }
            }
            for (Map.Entry<String, List<Base>> entry : current.entrySet()) {
                if (!replaced.contains(entry.getKey())) {
                    for (Base child : entry.getValue()) {
                        if (!visited.contains(Node.identityOf(child))) {
                            dropOrEmpty(child);
                        }
                    }
                }
            }
            if (base instanceof PrimitiveType<?> primitive && !(base instanceof XhtmlType)) {
                if (replacement.isValueNode() && !replacement.isNull()) {
                    primitive.setValueAsString(replacement.asText());
                } else {
                    primitive.setValue(null);
                }
            }
        }

        private void dropOrEmpty(Base child) {
            if (keep.contains(Node.identityOf(child))) {
                into(child, NullNode.getInstance());
            } else {
                clear(child);
            }
        }

        private void add(Base base, String field, String element, JsonNode json) {
            if (json == null || json.isNull()) {
                return;
            }
            String type = field.equals(element) ? declaredType(base, element) : field.substring(element.length());
            BaseRuntimeElementDefinition<?> definition = type == null ? null : typeDefinition(type);
            if (definition instanceof RuntimePrimitiveDatatypeDefinition) {
                PrimitiveType<?> primitive = (PrimitiveType<?>) definition.newInstance();
                primitive.setValueAsString(json.isValueNode() ? json.asText() : json.toString());
                base.setProperty(field.equals(element) ? element : element + "[x]", primitive);
            } else {
                into(base.addChild(field), json);
            }
        }
    }

    private BaseRuntimeElementDefinition<?> typeDefinition(String type) {
        BaseRuntimeElementDefinition<?> definition = fhirContext.getElementDefinition(type);
        if (definition == null && !type.isEmpty()) {
            definition = fhirContext.getElementDefinition(Character.toLowerCase(type.charAt(0)) + type.substring(1));
        }
        return definition;
    }

    private static String declaredType(Base base, String element) {
        String[] types = base.getTypesForProperty(element.hashCode(), element);
        return types == null || types.length == 0 ? null : types[0];
    }

    /** Maps a JSON field name to the element it sets: {@code valueString} sets {@code value}. */
    private static String elementName(Base base, String field) {
        for (Property property : base.children()) {
            String name = property.getName();
            if (name.equals(field)) {
                return field;
            }
            if (name.endsWith("[x]") && field.startsWith(name.substring(0, name.length() - 3))) {
                return name.substring(0, name.length() - 3);
            }
        }
        throw new AnonymizationException("substitute: replaceWith names '" + field + "', which a " + base.fhirType() + " does not have", null);
    }

    private static Map<String, List<Base>> children(Base base) {
        Map<String, List<Base>> children = new LinkedHashMap<>();
        for (Property property : base.children()) {
            if (!property.hasValues()) {
                continue;
            }
            String name = property.getName().endsWith("[x]")
                    ? property.getName().substring(0, property.getName().length() - 3) : property.getName();
            for (Base value : property.getValues()) {
                if (value != null && !(value instanceof Resource)) {
                    children.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
                }
            }
        }
        return children;
    }

    private static boolean collectKept(Base base, Set<Object> visited, Set<Object> keep) {
        boolean kept = false;
        for (List<Base> values : children(base).values()) {
            for (Base child : values) {
                kept |= collectKept(child, visited, keep);
            }
        }
        if (kept || visited.contains(Node.identityOf(base))) {
            keep.add(Node.identityOf(base));
            return true;
        }
        return false;
    }

    private static void markVisited(Base base, Set<Object> visited) {
        visited.add(Node.identityOf(base));
        for (List<Base> values : children(base).values()) {
            for (Base child : values) {
                markVisited(child, visited);
            }
        }
    }

    private static void clear(Base base) {
        if (base instanceof XhtmlType xhtml) {
            if (xhtml.getPlace() != null) {
                xhtml.getPlace().setDiv(null);
            }
            return;
        }
        for (List<Base> values : children(base).values()) {
            for (Base child : values) {
                clear(child);
            }
        }
        if (base instanceof PrimitiveType<?> primitive) {
            primitive.setValue(null);
        }
    }
}

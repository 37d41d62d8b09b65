package dev.sluice.deid;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.XhtmlType;

/**
 * Writes a resource as minified FHIR JSON, leaving out every element that anonymization emptied, but never a
 * resource (an emptied contained resource stays, as in the reference engine). HAPI's own encoder would give such a
 * contained resource a generated id, which would put an identifier back into de-identified output.
 */
final class ResourceJsonWriter {

    private static final JsonFactory JSON = new JsonFactory();

    byte[] write(Resource resource) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        try (JsonGenerator generator = JSON.createGenerator(out)) {
            writeResource(generator, resource);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory failed", e);
        }
        return out.toByteArray();
    }

    private void writeResource(JsonGenerator g, Resource resource) throws IOException {
        g.writeStartObject();
        g.writeStringField("resourceType", resource.fhirType());
        writeChildren(g, resource, true);
        g.writeEndObject();
    }

    private void writeChildren(JsonGenerator g, Base base, boolean isResource) throws IOException {
        for (Property property : base.children()) {
            if (!property.hasValues()) {
                continue;
            }
            List<Base> values = new ArrayList<>();
            for (Base value : property.getValues()) {
                if (value != null && !isEmpty(value, isResource && "id".equals(property.getName()))) {
                    values.add(value);
                }
            }
            if (values.isEmpty()) {
                continue;
            }
            String name = property.getName();
            if (name.endsWith("[x]")) {
                name = name.substring(0, name.length() - 3) + JsonPrimitive.choiceSuffix(values.get(0).fhirType());
            }
            Base first = values.get(0);
            if (first.isPrimitive()) {
                writePrimitives(g, name, values, property.isList(), isResource && "id".equals(property.getName()));
            } else {
                g.writeFieldName(name);
                if (property.isList()) {
                    g.writeStartArray();
                }
                for (Base value : values) {
                    if (value instanceof Resource resource) {
                        writeResource(g, resource);
                    } else {
                        g.writeStartObject();
                        writeChildren(g, value, false);
                        g.writeEndObject();
                    }
                }
                if (property.isList()) {
                    g.writeEndArray();
                }
            }
        }
    }

    private void writePrimitives(JsonGenerator g, String name, List<Base> values, boolean list, boolean resourceId) throws IOException {
        boolean anyValue = false;
        boolean anyContent = false;
        for (Base value : values) {
            anyValue |= text(value, resourceId) != null;
            anyContent |= hasElementContent(value);
        }
        if (anyValue) {
            g.writeFieldName(name);
            if (list) {
                g.writeStartArray();
            }
            for (Base value : values) {
                writeValue(g, value, text(value, resourceId), list);
            }
            if (list) {
                g.writeEndArray();
            }
        }
        if (anyContent) {
            g.writeFieldName("_" + name);
            if (list) {
                g.writeStartArray();
            }
            for (Base value : values) {
                if (hasElementContent(value)) {
                    g.writeStartObject();
                    writeChildren(g, value, false);
                    g.writeEndObject();
                } else if (list) {
                    g.writeNull();
                }
            }
            if (list) {
                g.writeEndArray();
            }
        }
    }

    private static void writeValue(JsonGenerator g, Base value, String text, boolean list) throws IOException {
        if (text == null) {
            if (list) {
                g.writeNull();
            }
        } else {
            JsonPrimitive.of(value).write(g, text);
        }
    }

    private static String text(Base value, boolean resourceId) {
        if (!(value instanceof PrimitiveType<?> primitive)) {
            return null;
        }
        String text = resourceId && value instanceof IdType id ? id.getIdPart()
                : value instanceof XhtmlType xhtml ? Node.xhtmlText(xhtml) : primitive.getValueAsString();
        return text == null || text.isEmpty() ? null : text;
    }

    private boolean hasElementContent(Base base) {
        if (base instanceof PrimitiveType<?> primitive) {
            // A primitive's only children are its element id and extensions; asking for them directly spares building
            // Property objects for every primitive of the resource (a third of the writer's time).
            if (primitive.hasId() && !isEmpty(primitive.getIdElement(), false)) {
                return true;
            }
            if (primitive.hasExtension()) {
                for (Extension extension : primitive.getExtension()) {
                    if (extension != null && !isEmpty(extension, false)) {
                        return true;
                    }
                }
            }
            return false;
        }
        for (Property property : base.children()) {
            for (Base value : property.getValues()) {
                if (value != null && !isEmpty(value, false)) {
                    return true;
                }
            }
        }
        return false;
    }

    private boolean isEmpty(Base value, boolean resourceId) {
        if (value instanceof Resource) {
            return false;
        }
        if (value.isPrimitive() && text(value, resourceId) != null) {
            return false;
        }
        return !hasElementContent(value);
    }
}

package dev.sluice.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimePrimitiveDatatypeDefinition;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;
import org.hl7.fhir.r4.model.Extension;

/**
 * The JSON type of each primitive value, against its element's FHIR type: a boolean is JSON
 * {@code true}/{@code false}, the integers and decimal are JSON numbers, every other primitive a
 * JSON string. HAPI reads each value by its text whatever its JSON type ({@code "active":"true"}
 * becomes a boolean), but the stored JSON is the JSON sent, so it would be served and exported
 * with the wrong type. Run after HAPI's strict parse, so every name here is one HAPI knew.
 */
final class JsonScalarTypes {
  private static final Set<String> NUMBERS = Set.of("integer", "unsignedInt", "positiveInt", "decimal", "integer64");

  private final FhirContext context;
  private final BaseRuntimeElementCompositeDefinition<?> extension;

  JsonScalarTypes(FhirContext context) {
    this.context = context;
    this.extension = (BaseRuntimeElementCompositeDefinition<?>) context.getElementDefinition(Extension.class);
  }

  /**
   * Where a value is, put into words only for a message: this runs on every element of every
   * write, and joining the path of each one as text cost a sixth of the strict parse.
   */
  private record At(At parent, String name, int index) {
    At field(String field) {
      return new At(this, field, -1);
    }

    At item(int i) {
      return new At(this, null, i);
    }

    @Override
    public String toString() {
      String before = parent == null ? "" : parent.toString();
      return name != null ? (before.isEmpty() ? name : before + "." + name) : before + "[" + index + "]";
    }
  }

  /** @throws FhirException 400 naming the first element whose value has the wrong JSON type */
  void check(JsonNode resource) {
    String type = resource.path("resourceType").asText();
    composite(resource, context.getResourceDefinition(type), new At(null, type, -1));
  }

  private void composite(JsonNode object, BaseRuntimeElementCompositeDefinition<?> definition, At path) {
    for (var field : object.properties()) {
      String name = field.getKey();
      JsonNode value = field.getValue();
      if (name.equals("resourceType") || name.equals("fhir_comments")) {
        continue;
      }
      At at = path.field(name);
      if (name.startsWith("_")) {
        primitiveExtensions(value, at);
        continue;
      }
      BaseRuntimeChildDefinition child = definition.getChildByName(name);
      BaseRuntimeElementDefinition<?> element = child == null ? null : child.getChildByName(name);
      if (value.isArray()) {
        for (int i = 0; i < value.size(); i++) {
          value(value.get(i), element, at.item(i));
        }
      } else {
        value(value, element, at);
      }
    }
  }

  private void value(JsonNode value, BaseRuntimeElementDefinition<?> element, At at) {
    if (value.isNull()) {
      return; // a null kept aligned with its _extensions, which the shape check allowed
    }
    if (value.isObject() && value.has("resourceType")) {
      // a contained resource, a Bundle entry's, a Parameters part's
      composite(value, context.getResourceDefinition(value.get("resourceType").asText()), at);
    } else if (element instanceof RuntimePrimitiveDatatypeDefinition primitive) {
      scalar(value, primitive.getName(), at);
    } else if (element instanceof BaseRuntimeElementCompositeDefinition<?> composite && value.isObject()) {
      composite(value, composite, at);
    } else if (element != null && element.getName().equals("xhtml")) {
      scalar(value, "xhtml", at);
    }
  }

  /**
   * {@code _name}: a primitive's id and extensions, or an array of them (nulls keep places),
   * read as an Extension's, which has the same two.
   */
  private void primitiveExtensions(JsonNode value, At at) {
    if (value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        if (value.get(i).isObject()) {
          composite(value.get(i), extension, at.item(i));
        }
      }
    } else if (value.isObject()) {
      composite(value, extension, at);
    }
  }

  private static void scalar(JsonNode value, String fhirType, At at) {
    boolean right = fhirType.equals("boolean") ? value.isBoolean()
        : NUMBERS.contains(fhirType) ? value.isNumber() : value.isTextual();
    if (!right) {
      String wanted = fhirType.equals("boolean") ? "a JSON true or false"
          : NUMBERS.contains(fhirType) ? "a JSON number" : "a JSON string";
      String where = at.toString();
      throw FhirException.badRequest("Invalid JSON resource: '" + where + "' is a FHIR " + fhirType + ", written as "
          + wanted + "; it holds " + value.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + value, where);
    }
  }
}

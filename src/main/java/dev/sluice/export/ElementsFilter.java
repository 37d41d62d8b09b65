package dev.sluice.export;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.OperationOutcomeJson;
import java.io.IOException;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code _elements}: keeps the listed top-level elements of each resource plus the mandatory
 * ones (id, meta and every element with a minimum cardinality of 1 in R4, a required choice
 * such as {@code medication[x]} in whichever variant the resource has), and tags the result
 * SUBSETTED. A choice is listed by its name ({@code value} or {@code value[x]}) and keeps every
 * variant. A type that none of the listed elements applies to is exported whole.
 * This is the one export path that parses JSON (with Jackson, not HAPI).
 */
final class ElementsFilter {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SUBSETTED_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

  private final FhirModel fhir;
  private final List<String> elements;
  private final Map<String, Set<String>> keptByType = new ConcurrentHashMap<>();

  ElementsFilter(FhirModel fhir, List<String> elements) {
    this.fhir = fhir;
    this.elements = List.copyOf(elements);
  }

  /** The element names kept for a type; empty when the resource is exported whole. */
  Set<String> kept(String type) {
    return keptByType.computeIfAbsent(type, t -> {
      Set<String> listed = new HashSet<>();
      for (String e : elements) {
        int dot = e.indexOf('.');
        if (dot < 0) {
          listed.add(e);
        } else if (e.substring(0, dot).equals(t)) {
          listed.add(e.substring(dot + 1));
        }
      }
      if (listed.isEmpty()) {
        return Set.of();
      }
      Set<String> kept = new HashSet<>(listed);
      kept.add("resourceType");
      kept.add("id");
      kept.add("meta");
      for (BaseRuntimeChildDefinition child : fhir.context().getResourceDefinition(t).getChildren()) {
        String name = child.getElementName();
        if (child.getMin() > 0 || listed.contains(name) || listed.contains(name + "[x]")) {
          kept.add(name);
          // a choice (medication[x]) is present as one of its variants: keep each of them
          kept.addAll(child.getValidChildNames());
        }
      }
      return Set.copyOf(kept);
    });
  }

  /**
   * Writes the resource subsetted to the asked elements; one that cannot be is left out, with a
   * warning in the part's error file, so one odd resource does not fail the export.
   */
  void write(String type, byte[] resource, int off, int len, NdjsonWriter out, NdjsonWriter errors)
      throws IOException, SQLException {
    byte[] subset;
    try {
      subset = apply(type, resource, off, len);
    } catch (IOException | RuntimeException e) {
      errors.write(OperationOutcomeJson.of(Issue.error(Issue.Code.PROCESSING,
          "A " + type + " could not be subsetted for _elements and was left out: " + e.getMessage())
          .withMessage(MessageCode.EXPORT_ELEMENTS_RESOURCE_LEFT_OUT)));
      return;
    }
    out.write(subset);
  }

  /** @return the subsetted resource, or the input when the type is exported whole */
  byte[] apply(String type, byte[] resource, int off, int len) throws IOException {
    Set<String> kept = kept(type);
    if (kept.isEmpty()) {
      return java.util.Arrays.copyOfRange(resource, off, off + len);
    }
    ObjectNode node = (ObjectNode) JSON.readTree(resource, off, len);
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!keep(kept, name)) {
        names.remove();
      }
    }
    ObjectNode meta = node.has("meta") && node.get("meta").isObject() ? (ObjectNode) node.get("meta") : node.putObject("meta");
    ArrayNode tags = meta.has("tag") && meta.get("tag").isArray() ? (ArrayNode) meta.get("tag") : meta.putArray("tag");
    boolean tagged = false;
    for (JsonNode tag : tags) {
      tagged |= "SUBSETTED".equals(tag.path("code").asText()) && SUBSETTED_SYSTEM.equals(tag.path("system").asText());
    }
    if (!tagged) {
      tags.addObject().put("system", SUBSETTED_SYSTEM).put("code", "SUBSETTED");
    }
    return JSON.writeValueAsBytes(node);
  }

  private static boolean keep(Set<String> kept, String name) {
    // a primitive's extension element (_birthDate) goes with it
    return kept.contains(name) || name.startsWith("_") && kept.contains(name.substring(1));
  }
}

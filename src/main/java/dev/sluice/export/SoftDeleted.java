package dev.sluice.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Instant;
import java.util.Date;
import java.util.TimeZone;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import org.hl7.fhir.r4.model.InstantType;

/**
 * The line of a deleted resource in an export with {@code includeAssociatedData=_deleted}, in
 * the form Azure's FHIR service exports and imports: the resource with
 * {@code meta.extension} {@code {"url": "http://azurehealthcareapis.com/data-extensions/deleted-state",
 * "valueString": "soft-deleted"}}. Its {@code meta.versionId} and {@code meta.lastUpdated} are the
 * deletion's own (so an import recreates the deletion as that version); its other content is the
 * last version before the deletion (Azure writes an empty resource there; an importer keeps only
 * the deletion).
 */
final class SoftDeleted {
  static final String MARKER_URL = "http://azurehealthcareapis.com/data-extensions/deleted-state";
  static final String MARKER_VALUE = "soft-deleted";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TimeZone UTC = TimeZone.getTimeZone("UTC");

  private SoftDeleted() {}

  /** @param previous the content of the last version before the deletion, or null when there is none */
  static byte[] line(String type, String id, int version, Instant lastUpdated, byte[] previous) throws IOException {
    ObjectNode resource;
    if (previous == null) {
      resource = JSON.createObjectNode();
      resource.put("resourceType", type);
      resource.put("id", id);
    } else {
      resource = (ObjectNode) JSON.readTree(previous);
    }
    ObjectNode meta = resource.withObject("meta");
    meta.put("versionId", Integer.toString(version));
    // as writes stamp it (WriteTransaction): milliseconds, UTC
    meta.put("lastUpdated",
        new InstantType(Date.from(lastUpdated), TemporalPrecisionEnum.MILLI, UTC).getValueAsString());
    meta.withArray("extension").addObject().put("url", MARKER_URL).put("valueString", MARKER_VALUE);
    return JSON.writeValueAsBytes(resource);
  }
}

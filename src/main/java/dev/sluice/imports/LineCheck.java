package dev.sluice.imports;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.store.ImportedVersion;
import dev.sluice.store.ResourceIndexRows;
import dev.sluice.store.SearchIndexWriter;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Extension;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/**
 * Checks one line of an input as strictly as a write: JSON, a resource of the input's type,
 * a valid id, a versionId Sluice can keep. The line becomes a version to store, or the reason
 * it is refused. An accepted line's search index rows are computed here too, from the parsed
 * model, which is then dropped: the reading side checks lines in parallel, and a batch that
 * carries rows instead of models is a fraction of the heap (see {@link ResourceIndexRows}).
 */
final class LineCheck {
  /** Microsoft's marker of a soft-deleted resource in its exports and imports. */
  static final String DELETED_STATE = "http://azurehealthcareapis.com/data-extensions/deleted-state";
  static final String SOFT_DELETED = "soft-deleted";

  /** What a line became. */
  sealed interface Checked {
    /** @param indexNanos the time computing its index rows took (bench/import.sh sums it) */
    record Accepted(ImportedVersion version, long indexNanos) implements Checked {}

    record Refused(long line, String reason) implements Checked {}
  }

  private final FhirModel fhir;
  private final SearchIndexWriter index;

  LineCheck(FhirModel fhir, SearchIndexWriter index) {
    this.fhir = fhir;
    this.index = index;
  }

  /** @param type the input's declared type, or null */
  Checked check(long number, byte[] bytes, String type) {
    if (bytes == null) {
      return new Checked.Refused(number, "the line is longer than " + InputLines.MAX_LINE_BYTES + " bytes");
    }
    IBaseResource parsed;
    try {
      parsed = fhir.parse(bytes, Format.JSON);
    } catch (FhirException e) {
      return new Checked.Refused(number, e.issues().getFirst().diagnostics());
    }
    Resource resource = (Resource) parsed;
    String resourceType = resource.fhirType();
    if (type != null && !type.equals(resourceType)) {
      return new Checked.Refused(number, "a " + resourceType + " in an input of type " + type);
    }
    String id = resource.getIdElement().getIdPart();
    if (id == null || id.isEmpty()) {
      return new Checked.Refused(number, "the resource has no id; an import keeps the ids it is given");
    }
    if (!FhirModel.isValidId(id)) {
      return new Checked.Refused(number, "'" + id + "' is not a valid id");
    }
    Integer version = null;
    String versionId = resource.getMeta().getVersionId();
    if (versionId != null) {
      try {
        version = Integer.valueOf(versionId);
      } catch (NumberFormatException e) {
        version = null;
      }
      if (version == null || version < 1) {
        return new Checked.Refused(number, "meta.versionId '" + versionId
            + "' is not a positive whole number, the only versions Sluice keeps");
      }
    }
    Instant lastUpdated = resource.getMeta().getLastUpdated() == null ? null
        : resource.getMeta().getLastUpdated().toInstant().truncatedTo(ChronoUnit.MILLIS);
    boolean deleted = false;
    for (Extension e : resource.getMeta().getExtension()) {
      if (DELETED_STATE.equals(e.getUrl()) && e.getValue() instanceof StringType s && SOFT_DELETED.equals(s.getValue())) {
        deleted = true;
      }
    }
    long t0 = System.nanoTime();
    ResourceIndexRows rows;
    try {
      rows = deleted ? null : index.rows(resourceType, resource);
    } catch (FhirException e) {
      return new Checked.Refused(number, e.issues().getFirst().diagnostics());
    }
    long indexNanos = System.nanoTime() - t0;
    return new Checked.Accepted(new ImportedVersion(number, resourceType, id, version, lastUpdated, deleted,
        rows, bytes), indexNanos);
  }
}

package dev.sluice.export;

import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.deid.AnonymizationException;
import dev.sluice.deid.Anonymizer;
import dev.sluice.deid.DateShiftScope;
import dev.sluice.deid.ProcessingErrors;
import dev.sluice.fhir.PatientCompartment;
import java.io.IOException;
import java.sql.SQLException;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * Applies an export's de-identification to the rows of one part: the engine's walk over the JSON
 * where it decides the resource, else parse, anonymize, write. The
 * date-shift scope key is the patient id for {@code patient} scope (the resource's own id for
 * a Patient, else the smallest id of the patients whose compartments hold it, none for a
 * resource in no compartment: then its own id, as with {@code resource} scope), the resource
 * type for {@code file} (all files of a type count as one) and the container for {@code folder}.
 *
 * <p>A resource that fails under {@code processingErrors: skip} is left out and reported in the
 * error file by type and pseudonym (the cryptoHash of its id under the configuration's key,
 * which is its id in the output when the configuration hashes ids): never by the id itself.
 */
final class Deidentifier {
  private final Anonymizer anonymizer;
  private final PatientCompartment compartment;
  private final String container;
  private final ExportMetrics metrics;

  Deidentifier(Anonymizer anonymizer, PatientCompartment compartment, String container, ExportMetrics metrics) {
    this.metrics = metrics;
    this.anonymizer = anonymizer;
    this.compartment = compartment;
    this.container = container;
  }

  /**
   * @return the de-identified resource, or null when it was skipped and reported to {@code errors}
   * @throws Failed under {@code processingErrors: raise}
   */
  byte[] apply(String type, byte[] b, int off, int len, NdjsonWriter errors) throws IOException, SQLException {
    // patient scope needs the compartments of the parsed resource; the model engine decides what the walk cannot
    if (anonymizer.config().parameters().dateShiftScope() != DateShiftScope.PATIENT) {
      byte[] walked = anonymizer.walk(b, off, len, scopeKey(type, null, null));
      if (walked != null) {
        return walked;
      }
    }
    IBaseResource resource;
    try {
      resource = anonymizer.parse(b, off, len);
    } catch (AnonymizationException e) {
      return failed(type, null, e, errors);
    }
    String id = resource.getIdElement().getIdPart();
    Anonymizer.Result result;
    try {
      result = anonymizer.apply(resource, scopeKey(type, id, resource));
    } catch (AnonymizationException e) {
      return failed(type, id, e, errors);
    }
    return switch (result) {
      case Anonymizer.Result.Anonymized a -> anonymizer.write(a.resource());
      case Anonymizer.Result.Skipped s -> failed(type, id, s.error(), errors);
    };
  }

  /** The id a deletion is reported with: the same pseudonym that hashing {@code Resource.id} gives. */
  String pseudonym(String id) {
    return anonymizer.pseudonym(id);
  }

  private String scopeKey(String type, String id, IBaseResource resource) {
    return switch (anonymizer.config().parameters().dateShiftScope()) {
      case RESOURCE -> null;
      case FILE -> type;
      case FOLDER -> container;
      case PATIENT -> {
        if (type.equals("Patient")) {
          yield id;
        }
        Set<String> patients = compartment.patientIds(type, resource);
        yield patients.isEmpty() ? null : patients.iterator().next();
      }
    };
  }

  private byte[] failed(String type, String id, AnonymizationException e, NdjsonWriter errors)
      throws IOException, SQLException {
    String which = "A " + type + (id == null ? "" : " (pseudonym " + pseudonym(id) + ")");
    metrics.deidError();
    if (anonymizer.config().processingErrors() == ProcessingErrors.RAISE) {
      throw new Failed(which + " could not be de-identified (processingErrors: raise): " + e.getMessage());
    }
    errors.write(OperationOutcomeJson.of(Issue.error(Issue.Code.PROCESSING,
        which + " could not be de-identified and was left out (processingErrors: skip): " + e.getMessage())
        .withMessage(MessageCode.EXPORT_DEID_RESOURCE_LEFT_OUT)));
    return null;
  }

  /** De-identification failed under {@code processingErrors: raise}: the export fails, without retries. */
  static final class Failed extends RuntimeException {
    Failed(String message) {
      super(message);
    }
  }
}

package dev.sluice.imports;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.PrimitiveType;

/**
 * The body of {@code POST [base]/$import}, Azure's Parameters resource: {@code inputFormat},
 * {@code mode} and {@code input} parts ({@code type}, {@code url}, {@code etag},
 * {@code storageDetail}).
 */
public record ImportRequest(ImportMode mode, List<Input> inputs) {
  public ImportRequest {
    Objects.requireNonNull(mode, "mode");
    inputs = List.copyOf(inputs);
  }

  /** One input: its url as given, its declared type or null, the {@code etag} it must have or null. */
  public record Input(String url, String type, String etag) {}

  private static final String NDJSON = "application/fhir+ndjson";

  /** @throws FhirException 400 naming the parameter that is wrong */
  public static ImportRequest parse(FhirModel fhir, byte[] body, Format format) {
    IBaseResource parsed = fhir.parse(body, format);
    if (!(parsed instanceof Parameters parameters)) {
      throw FhirException.badRequest("$import takes a Parameters resource, not a " + parsed.fhirType(), "Parameters");
    }
    ImportMode mode = ImportMode.INCREMENTAL;
    List<Input> inputs = new ArrayList<>();
    for (var p : parameters.getParameter()) {
      String name = p.getName();
      switch (name == null ? "" : name) {
        case "inputFormat" -> {
          String f = text(p.getValue(), "inputFormat");
          if (!NDJSON.equals(f)) {
            throw FhirException.badRequest("inputFormat must be " + NDJSON + ", got '" + f + "'", "inputFormat");
          }
        }
        case "mode" -> {
          String m = text(p.getValue(), "mode");
          mode = ImportMode.of(m);
          if (mode == null) {
            throw FhirException.badRequest("mode must be InitialLoad or IncrementalLoad, got '" + m + "'", "mode");
          }
        }
        case "inputSource", "storageDetail" -> { } // where Azure's own storage sits: here, the configured store
        case "input" -> inputs.add(input(fhir, p));
        default -> throw FhirException.badRequest("Unknown $import parameter '" + name
            + "' (known: inputFormat, mode, input, storageDetail)", "Parameters.parameter");
      }
    }
    if (inputs.isEmpty()) {
      throw FhirException.badRequest("$import needs at least one input", "input");
    }
    return new ImportRequest(mode, inputs);
  }

  private static Input input(FhirModel fhir, Parameters.ParametersParameterComponent p) {
    String url = null;
    String type = null;
    String etag = null;
    for (var part : p.getPart()) {
      switch (part.getName() == null ? "" : part.getName()) {
        case "url" -> url = text(part.getValue(), "input.url");
        case "type" -> {
          type = text(part.getValue(), "input.type");
          if (!fhir.isResourceType(type)) {
            throw FhirException.badRequest("input.type '" + type + "' is not an R4 resource type", "input.type");
          }
        }
        case "etag" -> etag = text(part.getValue(), "input.etag"); // checked for S3 objects (ImportSource)
        case "storageDetail" -> { } // kept for Azure's form
        default -> throw FhirException.badRequest("Unknown part '" + part.getName() + "' of an input"
            + " (known: type, url, etag, storageDetail)", "input");
      }
    }
    if (url == null || url.isBlank()) {
      throw FhirException.badRequest("An input has no url", "input.url");
    }
    return new Input(url, type, etag);
  }

  private static String text(Object value, String name) {
    if (value instanceof PrimitiveType<?> primitive && primitive.getValueAsString() != null) {
      return primitive.getValueAsString();
    }
    throw FhirException.badRequest(name + " needs a value", name);
  }
}

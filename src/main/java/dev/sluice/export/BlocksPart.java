package dev.sluice.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.search.SearchQuery;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportScan;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A part of kind {@code patient-blocks} ({@code organizeOutputBy=Patient}): the blocks of a
 * range of patients into {@code Patient-blocks-<n>.ndjson}, each a header {@code Parameters}
 * naming the patient, then its Patient, then the rest of its compartment, as at
 * transactionTime, stored bytes copied as they are (through {@code _elements} when asked).
 */
final class BlocksPart {
  private static final JsonFactory JSON = new JsonFactory();

  private final PartFiles files;
  private final PartSelection selection;

  BlocksPart(PartFiles files, PartSelection selection) {
    this.files = files;
    this.selection = selection;
  }

  Written export(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    List<String> types = new ArrayList<>(selection.types(request));
    types.sort(null);
    Map<String, List<SearchQuery>> filters = new LinkedHashMap<>();
    for (String type : types) {
      List<SearchQuery> anyOf = selection.filters(request, type);
      if (!anyOf.isEmpty()) {
        filters.put(type, anyOf);
      }
    }
    boolean members = !(request.level() instanceof ExportLevel.Patients) || !request.patients().isEmpty();
    var spec = new ExportScan.BlockScan(job.id(), part.partNo(), part.patients(), types, job.transactionTime(),
        request.since(), members, filters);
    ExportCompartments compartments = selection.compartments(job, request);
    ElementsFilter elements = selection.elements(request);
    try (NdjsonWriter out = files.open(job, part, FileSeries.patientBlocks());
        NdjsonWriter errors = files.errors(job, part)) {
      try {
        String[] block = {null};
        session.blocks(spec, compartments::owners, (patient, type, b, off, len) -> {
          try {
            if (!patient.equals(block[0])) {
              out.startBlock(header(patient));
              block[0] = patient;
            }
            if (elements == null) {
              out.write(b, off, len);
            } else {
              elements.write(type, b, off, len, out, errors);
            }
          } catch (SQLException e) {
            throw new IOException(e);
          }
        });
        out.close();
        errors.close();
      } catch (Exception e) {
        out.abandon();
        errors.abandon();
        throw e;
      }
      return Written.of(out, errors);
    }
  }

  /** The guide's block header: {@code Parameters} with one parameter {@code header} referencing the patient. */
  static byte[] header(String patient) {
    ByteArrayOutputStream b = new ByteArrayOutputStream(128);
    try (JsonGenerator g = JSON.createGenerator(b)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "Parameters");
      g.writeArrayFieldStart("parameter");
      g.writeStartObject();
      g.writeStringField("name", "header");
      g.writeObjectFieldStart("valueReference");
      g.writeStringField("reference", "Patient/" + patient);
      g.writeEndObject();
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return b.toByteArray();
  }
}

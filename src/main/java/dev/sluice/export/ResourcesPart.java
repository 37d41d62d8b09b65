package dev.sluice.export;

import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportScan;
import dev.sluice.store.ExportScan.Membership;
import java.io.IOException;
import java.sql.SQLException;

/**
 * A part of kind {@code resources}: the versions of one type and pk range current at
 * transactionTime, streamed from the scan into {@code <Type>-<n>.ndjson}; the stored bytes
 * are copied as they are unless the request transforms them.
 */
final class ResourcesPart {
  private final PartFiles files;
  private final PartSelection selection;

  ResourcesPart(PartFiles files, PartSelection selection) {
    this.files = files;
    this.selection = selection;
  }

  Written export(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    String type = part.resType();
    Membership membership = switch (request.level()) {
      case ExportLevel.System s -> Membership.ALL;
      case ExportLevel.Patients p -> !request.patients().isEmpty() ? Membership.MEMBERS
          // a Patient is in its own compartment: no need to look
          : type.equals("Patient") ? Membership.ALL : Membership.ANY_COMPARTMENT;
      case ExportLevel.Group g -> Membership.MEMBERS;
    };
    // _typeFilter: judged on the versions at transactionTime
    var spec = new ExportScan.ResourceScan(job.id(), type, part.pkFrom(), part.pkTo(), job.transactionTime(),
        request.since(), membership, selection.filters(request, type));
    ElementsFilter filter = selection.elements(request);
    Deidentifier deid = selection.deidentifier(job, request);
    ExportCompartments compartments = membership == Membership.ALL ? null : selection.compartments(job, request);
    try (NdjsonWriter out = files.open(job, part, FileSeries.output(type));
        NdjsonWriter errors = files.errors(job, part)) {
      try {
        // replaced after transactionTime: the compartment table holds a later version's
        // membership, so such a version is judged from its own content
        ExportScan.VersionTest inScope = compartments == null ? (t, version) -> true : compartments::holds;
        session.scan(spec, inScope, (b, off, len) -> {
          try {
            if (deid != null) {
              // parsed and re-serialized only here: without a configuration the bytes are copied as stored
              byte[] clean = deid.apply(type, b, off, len, errors);
              if (clean == null) {
                return;
              }
              b = clean;
              off = 0;
              len = clean.length;
            }
            if (filter == null) {
              out.write(b, off, len);
            } else {
              byte[] subset;
              try {
                subset = filter.apply(type, b, off, len);
              } catch (IOException | RuntimeException e) {
                errors.write(OperationOutcomeJson.of(Issue.error(Issue.Code.PROCESSING,
                    "A " + type + " could not be subsetted for _elements and was left out: " + e.getMessage())
                    .withMessage(MessageCode.EXPORT_ELEMENTS_RESOURCE_LEFT_OUT)));
                return;
              }
              out.write(subset);
            }
          } catch (SQLException e) {
            throw new IOException(e);
          }
        });
      } catch (Exception e) {
        out.abandon();
        errors.abandon();
        throw e;
      }
      return new Written(out.resources(), out.bytes(), out.files() + errors.files());
    }
  }
}

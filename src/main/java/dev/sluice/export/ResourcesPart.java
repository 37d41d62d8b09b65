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
 * The parts of one type and pk range: {@code resources} (the versions current at
 * transactionTime, into {@code <Type>-<n>.ndjson}; a shared part does so for each of its small
 * types in turn), and with {@code includeAssociatedData}
 * {@code history} and {@code soft-deleted}. The stored bytes are copied as they are unless the
 * request transforms them.
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
    // a shared part writes its small types one after the other, each into its own files
    Written written = new Written(0, 0, 0);
    for (String type : part.types()) {
      written = written.plus(export(job, request, part, type, session));
    }
    return written;
  }

  private Written export(ExportJobRow job, ExportRequest request, ExportPartRow part, String type,
      ExportScan.Session session) throws Exception {
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
    ExportCompartments compartments = membership == Membership.ALL ? null : selection.compartments(job, request);
    // replaced after transactionTime: the compartment table holds a later version's
    // membership, so such a version is judged from its own content
    ExportScan.VersionTest inScope = compartments == null ? (t, version) -> true : compartments::holds;
    return write(job, request, part, type, FileSeries.output(type), sink -> session.scan(spec, inScope, sink));
  }

  /** A part of kind {@code history}: the type's earlier versions at transactionTime, one COPY, into {@code <Type>-history-<n>.ndjson}. */
  Written history(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    var spec = new ExportScan.VersionScan(part.resType(), part.pkFrom(), part.pkTo(), job.transactionTime(),
        request.since());
    return write(job, request, part, part.resType(), FileSeries.history(part.resType()),
        sink -> session.history(spec, sink));
  }

  /**
   * A part of kind {@code soft-deleted}: the type's deleted resources at transactionTime (with
   * {@code _history} every deletion by then), each as its last version carrying the deletion's
   * versionId and lastUpdated and Azure's soft-delete marker ({@link SoftDeleted}), into
   * {@code <Type>-deleted-<n>.ndjson}. Never de-identified (refused at kick-off).
   */
  Written softDeleted(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    String type = part.resType();
    var spec = new ExportScan.VersionScan(type, part.pkFrom(), part.pkTo(), job.transactionTime(), request.since());
    return write(job, request, part, type, FileSeries.softDeleted(type), sink -> session.softDeleted(spec,
        request.includes(AssociatedData.HISTORY), (id, version, lastUpdated, previous) -> {
          byte[] line = SoftDeleted.line(type, id, version, lastUpdated, previous);
          sink.row(line, 0, line.length);
        }));
  }

  /** One scan of a part. */
  @FunctionalInterface
  private interface Scan {
    void into(ExportScan.RowSink sink) throws Exception;
  }

  /** Streams the rows of {@code scan} into the series, through de-identification and {@code _elements} when asked. */
  private Written write(ExportJobRow job, ExportRequest request, ExportPartRow part, String type, FileSeries series,
      Scan scan) throws Exception {
    ElementsFilter filter = selection.elements(request);
    Deidentifier deid = selection.deidentifier(job, request);
    try (NdjsonWriter out = files.open(job, part, series);
        NdjsonWriter errors = files.errors(job, part)) {
      try {
        scan.into((b, off, len) -> {
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

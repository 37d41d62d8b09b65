package dev.sluice.export;

import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportScan;
import java.io.IOException;
import java.sql.SQLException;
import java.util.Set;

/**
 * The part of kind {@code deleted}: the deletions since {@code _since} as transaction Bundles
 * of DELETE entries ({@link DeletionBundles}), in the manifest's {@code deleted} array.
 */
final class DeletionsPart {
  private final PartFiles files;
  private final PartSelection selection;

  DeletionsPart(PartFiles files, PartSelection selection) {
    this.files = files;
    this.selection = selection;
  }

  Written export(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    Deidentifier deid = selection.deidentifier(job, request);
    boolean system = request.level() instanceof ExportLevel.System;
    ExportCompartments compartments = system ? null : selection.compartments(job, request);
    Set<String> wanted = selection.types(request);
    try (NdjsonWriter out = files.open(job, part, FileSeries.deleted())) {
      DeletionBundles bundles = new DeletionBundles(out);
      try {
        session.deletions(request.since(), job.transactionTime(), wanted, !system, (type, id, previous) -> {
          // judged by the version before the deletion, as resources replaced after transactionTime are
          if (!system) {
            try {
              if (previous == null || !compartments.holds(type, previous)) {
                return;
              }
            } catch (SQLException e) {
              throw new IOException(e);
            }
          }
          // a de-identified export names deleted resources by pseudonym, never by their ids
          bundles.add(type, deid == null ? id : deid.pseudonym(id));
        });
        bundles.flush();
        out.close();
      } catch (Exception e) {
        out.abandon();
        throw e;
      }
      return new Written(out.resources(), out.bytes(), out.closed());
    }
  }
}

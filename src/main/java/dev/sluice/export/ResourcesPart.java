package dev.sluice.export;

import dev.sluice.search.SearchQuery;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;
import dev.sluice.store.ExportScan.Membership;
import dev.sluice.store.ExportScan;
import dev.sluice.store.ProvenanceScan;
import java.io.IOException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parts of one type and pk range: {@code resources} (the versions current at
 * transactionTime, into {@code <Type>-<n>.ndjson}; a shared part does so for each of its small
 * types in turn), and with {@code includeAssociatedData} {@code history}, {@code soft-deleted}
 * and (of Provenance pks) {@code provenance}. The stored bytes are copied as they are unless the
 * request transforms them.
 */
final class ResourcesPart {
  private static final Logger log = LoggerFactory.getLogger(ResourcesPart.class);
  private final PartFiles files;
  private final PartSelection selection;

  ResourcesPart(PartFiles files, PartSelection selection) {
    this.files = files;
    this.selection = selection;
  }

  Written export(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    if (part.types().size() == 1) {
      return export(job, request, part, part.types().getFirst(), session);
    }
    return exportShared(job, request, part, session);
  }

  /**
   * A shared part: its small types in one snapshot and one COPY ({@link ExportScan.Session#scanShared}),
   * each type into its own files as its rows arrive, exactly the files and lines that a part per
   * type would write. A type's files are closed as soon as the scan has passed it.
   */
  private Written exportShared(ExportJobRow job, ExportRequest request, ExportPartRow part,
      ExportScan.Session session) throws Exception {
    List<String> types = part.types();
    List<ExportScan.ResourceScan> scans = new ArrayList<>(types.size());
    for (String type : types) {
      scans.add(new ExportScan.ResourceScan(job.id(), type, part.pkFrom(), part.pkTo(), job.transactionTime(),
          request.since(), membership(request, type), selection.filters(request, type)));
    }
    ExportCompartments compartments = scans.getFirst().membership() == Membership.ALL ? null
        : selection.compartments(job, request);
    ExportScan.VersionTest inScope = compartments == null ? (t, version) -> true : compartments::holds;
    ElementsFilter filter = selection.elements(request);
    Deidentifier deid = selection.deidentifier(job, request);
    // every type's first file recorded in one commit; a writer creates its file only on its
    // first line, so a type without rows writes nothing (its row stays at 0 resources)
    NdjsonWriter[] outs = files.open(job, part, types.stream().map(FileSeries::output).toList())
        .toArray(NdjsonWriter[]::new);
    NdjsonWriter[] errors = new NdjsonWriter[types.size()];
    for (int i = 0; i < types.size(); i++) {
      errors[i] = files.errors(job, part);
    }
    // for the DEBUG line below: the time the COPY's rows spend in the writers (files opened
    // included), taken only when it is logged, so as not to add two clock reads per row
    boolean timed = log.isDebugEnabled();
    long[] writing = {0};
    long[] closing = {0};
    try {
      session.scanShared(scans, inScope, new ExportScan.SharedSink() {
        @Override
        public void row(int scan, byte[] b, int off, int len) throws IOException {
          if (!timed) {
            line(types.get(scan), b, off, len, outs[scan], errors[scan], deid, filter);
            return;
          }
          long t = System.nanoTime();
          line(types.get(scan), b, off, len, outs[scan], errors[scan], deid, filter);
          writing[0] += System.nanoTime() - t;
        }

        @Override
        public void ended(int scan) throws IOException, SQLException {
          long t = System.nanoTime();
          outs[scan].close();
          errors[scan].close();
          closing[0] += System.nanoTime() - t;
        }
      });
    } catch (Exception e) {
      for (int i = 0; i < types.size(); i++) {
        outs[i].abandon();
        errors[i].abandon();
      }
      throw e;
    }
    Written written = Written.NONE;
    for (int i = 0; i < types.size(); i++) {
      written = written.plus(Written.of(outs[i], errors[i]));
    }
    log.debug("Export {} part {}: {} types, rows written in {} us (files opened included), files closed in {} us",
        job.id(), part.partNo(), types.size(), writing[0] / 1000, closing[0] / 1000);
    return written;
  }

  private Written export(ExportJobRow job, ExportRequest request, ExportPartRow part, String type,
      ExportScan.Session session) throws Exception {
    Membership membership = membership(request, type);
    // _typeFilter: judged on the versions at transactionTime
    var spec = new ExportScan.ResourceScan(job.id(), type, part.pkFrom(), part.pkTo(), job.transactionTime(),
        request.since(), membership, selection.filters(request, type));
    ExportCompartments compartments = membership == Membership.ALL ? null : selection.compartments(job, request);
    // replaced after transactionTime: the compartment table holds a later version's
    // membership, so such a version is judged from its own content
    ExportScan.VersionTest inScope = compartments == null ? (t, version) -> true : compartments::holds;
    return write(job, request, part, type, FileSeries.output(type), sink -> session.scan(spec, inScope, sink));
  }

  /** Which resources of {@code type} the request's level keeps. */
  private static Membership membership(ExportRequest request, String type) {
    return switch (request.level()) {
      case ExportLevel.System s -> Membership.ALL;
      case ExportLevel.Patients p -> !request.patients().isEmpty() ? Membership.MEMBERS
          // a Patient is in its own compartment: no need to look
          : type.equals("Patient") ? Membership.ALL : Membership.ANY_COMPARTMENT;
      case ExportLevel.Group g -> Membership.MEMBERS;
    };
  }

  /**
   * A part of kind {@code history}: the type's earlier versions at transactionTime, one COPY, into
   * {@code <Type>-history-<n>.ndjson}. At Patient and Group level each version is judged by its
   * own compartments (parsed), against the patients as at transactionTime: a version from
   * before the resource moved into an exported compartment is not another patient's to give.
   */
  Written history(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    String type = part.resType();
    var spec = new ExportScan.VersionScan(type, part.pkFrom(), part.pkTo(), job.transactionTime(), request.since());
    ExportCompartments compartments = membership(request, type) == Membership.ALL ? null
        : selection.compartments(job, request);
    return write(job, request, part, type, FileSeries.history(type), sink -> session.history(spec,
        compartments == null ? sink : (b, off, len) -> {
          try {
            if (compartments.holds(type, java.util.Arrays.copyOfRange(b, off, off + len))) {
              sink.row(b, off, len);
            }
          } catch (SQLException e) {
            throw new IOException(e);
          }
        }));
  }

  /**
   * A part of kind {@code provenance}: the Provenance of the resources the export writes
   * ({@code includeAssociatedData=LatestProvenanceResources} or {@code RelevantProvenanceResources},
   * judged by {@link ExportScan.Session#provenance}), one COPY, into {@code Provenance-<n>.ndjson}.
   */
  Written provenance(ExportJobRow job, ExportRequest request, ExportPartRow part, ExportScan.Session session)
      throws Exception {
    Map<String, List<SearchQuery>> types = new HashMap<>();
    for (String type : selection.types(request)) {
      types.put(type, selection.filters(request, type));
    }
    // Relevant holds Latest: asked together, every Provenance of the exported resources
    var spec = new ProvenanceScan(job.id(), part.pkFrom(), part.pkTo(), job.transactionTime(), request.since(),
        !request.includes(AssociatedData.RELEVANT_PROVENANCE), membership(request, "Provenance"), types,
        selection.provenanceTarget());
    ExportCompartments compartments = spec.membership() == Membership.ALL ? null : selection.compartments(job, request);
    ExportScan.VersionTest inScope = compartments == null ? (t, version) -> true : compartments::holds;
    return write(job, request, part, "Provenance", FileSeries.output("Provenance"), sink -> session.provenance(spec, inScope, sink));
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
    // at Patient and Group level judged by the version before the deletion (a deletion is in no compartment)
    ExportCompartments compartments = membership(request, type) == Membership.ALL ? null
        : selection.compartments(job, request);
    return write(job, request, part, type, FileSeries.softDeleted(type), sink -> session.softDeleted(spec,
        request.includes(AssociatedData.HISTORY), (id, version, lastUpdated, previous) -> {
          try {
            if (compartments != null && (previous == null || !compartments.holds(type, previous))) {
              return;
            }
          } catch (SQLException e) {
            throw new IOException(e);
          }
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
        scan.into((b, off, len) -> line(type, b, off, len, out, errors, deid, filter));
        // closed here, so that Written holds every file with its counts
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

  /** Writes one row, de-identified and subsetted for {@code _elements} when asked; stored bytes as they are otherwise. */
  private static void line(String type, byte[] b, int off, int len, NdjsonWriter out, NdjsonWriter errors,
      Deidentifier deid, ElementsFilter filter) throws IOException {
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
        filter.write(type, b, off, len, out, errors);
      }
    } catch (SQLException e) {
      throw new IOException(e);
    }
  }
}

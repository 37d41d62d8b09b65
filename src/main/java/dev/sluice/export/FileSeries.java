package dev.sluice.export;

import dev.sluice.store.ExportFileRow;

/**
 * The numbered files of one prefix that a writer fills, and what the manifest says of them.
 *
 * @param prefix the file names' start: {@code <prefix>-<n>.ndjson}
 * @param kind the manifest array: {@link ExportFileRow#OUTPUT}, {@link ExportFileRow#DELETED} or {@link ExportFileRow#ERROR}
 * @param resType the type the manifest names for the files
 */
record FileSeries(String prefix, String kind, String resType) {
  static FileSeries output(String type) {
    return new FileSeries(type, ExportFileRow.OUTPUT, type);
  }

  /** {@code includeAssociatedData=_history}: a type's earlier versions, in the manifest's output under their type. */
  static FileSeries history(String type) {
    return new FileSeries(type + "-history", ExportFileRow.OUTPUT, type);
  }

  /** {@code includeAssociatedData=_deleted}: a type's deleted resources, marked, in the manifest's output under their type. */
  static FileSeries softDeleted(String type) {
    return new FileSeries(type + "-deleted", ExportFileRow.OUTPUT, type);
  }

  /** {@code organizeOutputBy=Patient}: blocks of many types; the manifest names no type for them. */
  static FileSeries patientBlocks() {
    return new FileSeries("Patient-blocks", ExportFileRow.OUTPUT, "Patient");
  }

  static FileSeries deleted() {
    return new FileSeries("deleted-Bundle", ExportFileRow.DELETED, "Bundle");
  }

  static FileSeries errors() {
    return new FileSeries("error-OperationOutcome", ExportFileRow.ERROR, "OperationOutcome");
  }
}

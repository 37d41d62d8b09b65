package dev.sluice.store;

/** What a part of an export writes, with the names the {@code export_part.kind} column holds. */
public enum ExportPartKind {
  /** one type, pks {@code pkFrom..pkTo} inclusive */
  RESOURCES("resources"),
  /** {@code includeAssociatedData=_history}: the earlier versions of one type, pks {@code pkFrom..pkTo} */
  HISTORY("history"),
  /** {@code includeAssociatedData=_deleted}: the deleted resources of one type, pks {@code pkFrom..pkTo} */
  SOFT_DELETED("soft-deleted"),
  /**
   * {@code includeAssociatedData=LatestProvenanceResources} or {@code RelevantProvenanceResources}:
   * the Provenance of the exported resources, Provenance pks {@code pkFrom..pkTo}
   */
  PROVENANCE("provenance"),
  /** the deletions since {@code _since}, as transaction Bundles */
  DELETED("deleted"),
  /** the job's warnings (export.JobNotes), as OperationOutcomes in its error files */
  NOTES("notes"),
  /**
   * {@code organizeOutputBy=Patient}: the blocks (header, Patient, compartment) of the patients
   * whose ids are in {@code patientAfter..patientTo}
   */
  PATIENT_BLOCKS("patient-blocks");

  private final String sqlName;

  ExportPartKind(String sqlName) {
    this.sqlName = sqlName;
  }

  public String sqlName() {
    return sqlName;
  }

  public static ExportPartKind ofSql(String name) {
    for (ExportPartKind k : values()) {
      if (k.sqlName.equals(name)) {
        return k;
      }
    }
    throw new IllegalStateException("unknown export part kind '" + name + "'");
  }
}

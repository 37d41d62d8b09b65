package dev.sluice.store;

/** The states of an export job, with the names the {@code export_job.status} column holds. */
public enum ExportJobStatus {
  QUEUED("queued"),
  RUNNING("running"),
  COMPLETED("completed"),
  FAILED("failed"),
  CANCELLED("cancelled");

  private final String sqlName;

  ExportJobStatus(String sqlName) {
    this.sqlName = sqlName;
  }

  public String sqlName() {
    return sqlName;
  }

  /** The status of a column value; an unknown name is a schema this code does not know. */
  public static ExportJobStatus ofSql(String name) {
    for (ExportJobStatus s : values()) {
      if (s.sqlName.equals(name)) {
        return s;
      }
    }
    throw new IllegalStateException("unknown export job status '" + name + "'");
  }

  public boolean active() {
    return switch (this) {
      case QUEUED, RUNNING -> true;
      case COMPLETED, FAILED, CANCELLED -> false;
    };
  }
}

package dev.sluice.imports;

/** The two modes of Azure's {@code $import}. */
public enum ImportMode {
  /** Into a live server: ids, versions and lastUpdated kept, history merged, the server open. */
  INCREMENTAL("IncrementalLoad"),
  /** Into empty types only (409 otherwise). */
  INITIAL("InitialLoad");

  private final String fhirName;

  ImportMode(String fhirName) {
    this.fhirName = fhirName;
  }

  public String fhirName() {
    return fhirName;
  }

  static ImportMode of(String name) {
    for (ImportMode m : values()) {
      if (m.fhirName.equals(name)) {
        return m;
      }
    }
    return null;
  }
}

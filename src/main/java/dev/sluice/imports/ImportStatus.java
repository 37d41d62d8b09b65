package dev.sluice.imports;

/** What the status URL of an import answers. */
public sealed interface ImportStatus {
  record Running(long imported, long errors, int partsDone, int parts) implements ImportStatus {}

  /** @param result the JSON of the completed job: transactionTime, request, output, error */
  record Completed(byte[] result) implements ImportStatus {}

  record Failed(String reason) implements ImportStatus {}
}

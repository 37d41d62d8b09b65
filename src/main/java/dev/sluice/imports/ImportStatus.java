package dev.sluice.imports;

/** What the status URL of an import answers. */
public sealed interface ImportStatus {
  /** @param merging every input is staged (InitialLoad) and the merge that makes them visible runs */
  record Running(long imported, long errors, int partsDone, int parts, boolean merging) implements ImportStatus {}

  /** @param result the JSON of the completed job: transactionTime, request, output, error */
  record Completed(byte[] result) implements ImportStatus {}

  record Failed(String reason) implements ImportStatus {}
}

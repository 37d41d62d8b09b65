package dev.sluice.imports;

/** What the status URL of an import answers. */
public sealed interface ImportStatus {
  /** @param merging every input is staged (InitialLoad) and the merge that makes them visible runs */
  record Running(long imported, long errors, int partsDone, int parts, boolean merging) implements ImportStatus {}

  /**
   * @param result the JSON of the completed job: transactionTime, request, output, error
   * @param expires when the job and its error files are removed
   */
  record Completed(byte[] result, java.time.Instant expires) implements ImportStatus {}

  record Failed(String reason) implements ImportStatus {}
}

package dev.sluice.store;

/**
 * One file of an export.
 *
 * @param kind output, deleted or error: the manifest array it belongs to
 * @param resType the type the manifest names for it
 * @param continuesSeq organized output: the number of the next file of the prefix, where this
 *     file's last block goes on (the manifest's {@code continuesInFile}); null when it ends here
 */
public record ExportFileRow(String prefix, int seq, String kind, String resType, long resources, long bytes,
    Integer continuesSeq) {
  public ExportFileRow(String prefix, int seq, String kind, String resType, long resources, long bytes) {
    this(prefix, seq, kind, resType, resources, bytes, null);
  }

  public static final String OUTPUT = "output";
  public static final String DELETED = "deleted";
  public static final String ERROR = "error";

  public String name() {
    return name(prefix, seq);
  }

  public static String name(String prefix, int seq) {
    return prefix + "-" + seq + ".ndjson";
  }
}

package dev.sluice.export;

/**
 * When a local export file's gzip copy is made ({@code --export-gzip-copy}). Either way it is
 * made once and every gzip download is served it as a file; the choice is who pays the
 * compression: the first client that asks for gzip, or every export.
 */
public enum GzipCopyTime {
  /** On the first download that accepts gzip: exports that no gzip client reads cost nothing more. */
  DOWNLOAD,
  /** While the export writes the file: the manifest comes later, and no download waits for a compression. */
  WRITE
}

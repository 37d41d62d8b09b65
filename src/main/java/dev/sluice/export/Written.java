package dev.sluice.export;

import dev.sluice.store.ExportFileRow;
import java.util.ArrayList;
import java.util.List;

/**
 * What one attempt of a part wrote: its resources, bytes, and the files it closed with their
 * counts, which the part's finish records in its transaction ({@code ExportPartTable.finish}).
 */
record Written(long resources, long bytes, List<ExportFileRow> closed) {
  static final Written NONE = new Written(0, 0, List.of());

  Written {
    closed = List.copyOf(closed);
  }

  /** The resources and bytes of {@code out}, the files of both; call after closing them. */
  static Written of(NdjsonWriter out, NdjsonWriter errors) {
    List<ExportFileRow> files = new ArrayList<>(out.closed());
    files.addAll(errors.closed());
    return new Written(out.resources(), out.bytes(), files);
  }

  long files() {
    return closed.size();
  }

  Written plus(Written other) {
    List<ExportFileRow> files = new ArrayList<>(closed);
    files.addAll(other.closed);
    return new Written(resources + other.resources, bytes + other.bytes, files);
  }
}

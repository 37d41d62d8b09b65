package dev.sluice.export;

import dev.sluice.fhir.Issue;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportPartRow;

/** The part of kind {@code notes}: the job's warnings ({@link JobNotes}) as OperationOutcomes in its error files. */
final class NotesPart {
  private final PartFiles files;
  private final JobNotes notes;

  NotesPart(PartFiles files, JobNotes notes) {
    this.files = files;
    this.notes = notes;
  }

  Written export(ExportJobRow job, ExportRequest request, ExportPartRow part) throws Exception {
    try (NdjsonWriter errors = files.errors(job, part)) {
      for (Issue note : notes.of(job, request)) {
        errors.write(OperationOutcomeJson.of(note));
      }
      errors.close();
      return new Written(0, 0, errors.closed());
    }
  }
}

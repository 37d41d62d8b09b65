package dev.sluice.export;

/** The exporter of each part kind, one class per kind, over the same files and selection. */
public final class PartKinds {
  final ResourcesPart resources;
  final DeletionsPart deletions;
  final NotesPart notes;
  final BlocksPart blocks;

  public PartKinds(PartFiles files, PartSelection selection, JobNotes notes) {
    this.resources = new ResourcesPart(files, selection);
    this.deletions = new DeletionsPart(files, selection);
    this.notes = new NotesPart(files, notes);
    this.blocks = new BlocksPart(files, selection);
  }
}

package dev.sluice.export;

import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartTable;

/** The three tables of exports: jobs, their parts, and the parts' files. */
public record ExportTables(ExportJobTable jobs, ExportPartTable parts, ExportFileTable files) {}

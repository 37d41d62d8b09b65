package dev.sluice.store;

import java.util.List;
import java.util.UUID;

/**
 * One part of an export job, as claimed by a worker.
 *
 * @param resType the type of a {@link ExportPartKind#RESOURCES} part; null for the others and for a shared one
 * @param attempt 1 for the first claim; higher after a lease lapsed or a failure
 * @param outages the earlier attempts that found the output store unreachable
 * @param patients the patient ids of a {@link ExportPartKind#PATIENT_BLOCKS} part; null for the others
 * @param sharedTypes the types of a {@link ExportPartKind#RESOURCES} part shared by several small
 *     types, in the order it writes them; null for the others
 */
public record ExportPartRow(UUID jobId, int partNo, ExportPartKind kind, String resType, long pkFrom, long pkTo,
    int attempt, int outages, PatientRange patients, List<String> sharedTypes) {
  public ExportPartRow(UUID jobId, int partNo, ExportPartKind kind, String resType, long pkFrom, long pkTo,
      int attempt, int outages) {
    this(jobId, partNo, kind, resType, pkFrom, pkTo, attempt, outages, null, null);
  }

  /** The types a {@link ExportPartKind#RESOURCES} part writes: its own, or those it shares. */
  public List<String> types() {
    return sharedTypes != null ? sharedTypes : List.of(resType);
  }
}

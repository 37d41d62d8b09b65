package dev.sluice.store;

import java.util.UUID;

/**
 * One part of an export job, as claimed by a worker.
 *
 * @param kind {@link #RESOURCES} (one type, pks {@code pkFrom..pkTo} inclusive), {@link #DELETED} or {@link #NOTES}
 * @param attempt 1 for the first claim; higher after a lease lapsed
 */
public record ExportPartRow(UUID jobId, int partNo, String kind, String resType, long pkFrom, long pkTo, int attempt) {
  public static final String RESOURCES = "resources";
  public static final String DELETED = "deleted";
  /** the warnings of the job (export.JobNotes), OperationOutcomes in its error files */
  public static final String NOTES = "notes";
}

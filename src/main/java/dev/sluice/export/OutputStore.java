package dev.sluice.export;

import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * Where export files go. Every file of a job lives under {@code <container>/<job id>/<name>};
 * the container and the name are validated before they reach a store.
 */
public interface OutputStore {
  /**
   * Creates the container of a job's files, once, before any part writes to it (planning).
   *
   * @throws StoreUnreachable when the store did not answer; planning is tried again later
   */
  void prepare(String container) throws IOException;

  /**
   * Opens a file for writing in a prepared container, replacing any file of that name. The
   * caller closes the stream. Every method throws {@link StoreUnreachable} when the store did
   * not answer.
   */
  OutputStream create(String container, UUID jobId, String name) throws IOException;

  /**
   * Makes closed files of a job durable, before the part that wrote them records them as
   * finished: a manifest must never name a file that a crash of the machine could take back.
   * A store whose files are durable once their stream is closed (a committed blob or object)
   * has nothing to do.
   */
  void persist(String container, UUID jobId, List<String> names) throws IOException;

  void delete(String container, UUID jobId, String name) throws IOException;

  /** Removes every file of the job. */
  void deleteJob(String container, UUID jobId) throws IOException;

  /** The absolute URL a client downloads the file from, valid at least until {@code expires}. */
  String url(String fhirBase, String container, UUID jobId, String name, Instant expires);

  /**
   * Reads a de-identification configuration from the {@code anonymization} container; with
   * {@code ifMatch} only when the file still has that ETag. Larger than {@code maxBytes}: not read.
   */
  ConfigRead readConfig(String name, String ifMatch, long maxBytes) throws IOException;

  /** Whether downloads need the same bearer token as the FHIR API (the manifest says so). */
  boolean requiresAccessToken();
}

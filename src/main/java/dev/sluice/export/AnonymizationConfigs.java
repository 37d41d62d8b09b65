package dev.sluice.export;

import dev.sluice.deid.AnonymizationConfig;
import dev.sluice.deid.AnonymizationConfigException;
import dev.sluice.deid.Anonymizer;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.store.ExportJobTable;
import java.io.IOException;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * De-identification configurations of exports: read from the store's {@code anonymization}
 * container and validated at kick-off, then shared by the workers as one {@link Anonymizer}
 * per configuration content (compiling some 200 FHIRPaths costs more than a part's worth of
 * lookups). A worker of a process that did not see the kick-off builds it from the bytes the
 * job row keeps, so every process applies exactly what was validated.
 *
 * <p>A configuration that leaves {@code cryptoHashKey}, {@code dateShiftKey} or
 * {@code encryptKey} empty gets random keys, as in Microsoft's engine; they are chosen once, at
 * kick-off, and kept in the job row's copy of the configuration, so that every part of the job
 * (in any process, before and after a restart) makes the same pseudonyms and date shifts, and
 * the next export gets keys of its own.
 */
public final class AnonymizationConfigs {
  /** Largest configuration read, as Azure. */
  static final long MAX_CONFIG_BYTES = 1024 * 1024;
  /**
   * Anonymizers kept, least recently used dropped first (docs/export.md), so that many
   * configurations cannot grow the heap; a worker rebuilds a dropped one from the job row.
   */
  static final int CACHED = 8;

  private final FhirModel fhir;
  private final OutputStore store;
  private final ExportJobTable jobs;
  private final Map<String, Anonymizer> bySha256 = new LinkedHashMap<>(CACHED, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Anonymizer> eldest) {
      return size() > CACHED;
    }
  };

  public AnonymizationConfigs(FhirModel fhir, OutputStore store, ExportJobTable jobs) {
    this.fhir = fhir;
    this.store = store;
    this.jobs = jobs;
  }

  /** A configuration read and validated at kick-off. */
  record Loaded(Anonymization anonymization, byte[] bytes) {}

  /**
   * Reads and validates the configuration a kick-off names.
   *
   * @throws FhirException 400 when it is missing, too large or invalid (naming the rule), 412
   *     when {@code _anonymizationConfigEtag} does not match
   */
  Loaded load(Anonymization asked) {
    ConfigRead read;
    try {
      read = store.readConfig(asked.config(), asked.etag(), MAX_CONFIG_BYTES);
    } catch (IOException | RuntimeException e) {
      throw FhirException.internal("Reading the anonymization configuration '" + asked.config() + "' failed: "
          + e.getMessage(), e);
    }
    return switch (read) {
      case ConfigRead.Missing m -> throw FhirException.badRequest("There is no anonymization configuration '"
          + asked.config() + "' " + m.place(), "_anonymizationConfig");
      case ConfigRead.Changed c -> throw new FhirException(412, Issue.error(Issue.Code.CONFLICT, "The anonymization"
          + " configuration '" + asked.config() + "' does not have the ETag " + asked.etag() + " (it changed)",
          "_anonymizationConfigEtag"));
      case ConfigRead.TooLarge t -> throw FhirException.badRequest("The anonymization configuration '" + asked.config()
          + "' has " + t.bytes() + " bytes; at most " + MAX_CONFIG_BYTES + " are read", "_anonymizationConfig");
      case ConfigRead.Found f -> {
        AnonymizationConfig asRead = validate(asked.config(), f.bytes()).config();
        List<String> empty = List.copyOf(asRead.parameters().randomKeys());
        if (empty.isEmpty()) {
          yield new Loaded(asked.resolved(asRead.sha256(), asRead.sha256(), empty), f.bytes());
        }
        byte[] completed = JobKeys.chosen(f.bytes(), empty);
        Anonymizer applied = validate(asked.config(), completed);
        yield new Loaded(asked.resolved(asRead.sha256(), applied.config().sha256(), empty), completed);
      }
    };
  }

  private Anonymizer validate(String name, byte[] bytes) {
    AnonymizationConfig config;
    try {
      config = AnonymizationConfig.parse(bytes);
    } catch (AnonymizationConfigException e) {
      throw FhirException.badRequest("The anonymization configuration '" + name + "' is invalid: " + e.getMessage(),
          "_anonymizationConfig");
    }
    synchronized (bySha256) {
      return bySha256.computeIfAbsent(config.sha256(), k -> new Anonymizer(fhir.context(), config));
    }
  }

  /** The anonymizer of a job, from the cache or from the configuration the job row keeps. */
  Anonymizer of(UUID jobId, Anonymization anonymization) throws SQLException {
    synchronized (bySha256) {
      Anonymizer cached = bySha256.get(anonymization.applied());
      if (cached != null) {
        return cached;
      }
    }
    byte[] bytes = jobs.anonymizationConfig(jobId).orElseThrow(() -> new IllegalStateException(
        "export " + jobId + " has no stored anonymization configuration"));
    Anonymizer anonymizer = validate(anonymization.config(), bytes);
    if (!anonymizer.config().sha256().equals(anonymization.applied())) {
      throw new IllegalStateException("export " + jobId + ": the stored anonymization configuration is not the one"
          + " validated at kick-off");
    }
    return anonymizer;
  }
}

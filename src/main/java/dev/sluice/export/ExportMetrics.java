package dev.sluice.export;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The export's meters on {@code /metrics} (docs/export.md, "Metrics"): jobs by state (across
 * every process sharing the database, refreshed by the coordinator), and this process's
 * resources, bytes and files written, jobs ended, part retries and de-identification errors.
 */
public final class ExportMetrics {
  private final MeterRegistry registry;
  private final Counter resources;
  private final Counter bytes;
  private final Counter files;
  private final Counter deidErrors;
  private final MultiGauge jobsByState;

  public ExportMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.resources = Counter.builder("sluice.export.resources.written")
        .description("Resources written into export files by this process").register(registry);
    this.bytes = Counter.builder("sluice.export.written").baseUnit("bytes")
        .description("Bytes written into export files by this process").register(registry);
    this.files = Counter.builder("sluice.export.files.written")
        .description("Export files completed by this process").register(registry);
    this.deidErrors = Counter.builder("sluice.export.deid.errors")
        .description("Resources that failed de-identification (left out, or failing their job)").register(registry);
    this.jobsByState = MultiGauge.builder("sluice.export.jobs")
        .description("Export jobs by state, in the database shared by every process").register(registry);
  }

  /** A part attempt finished: what it wrote. */
  void written(long resourceCount, long byteCount, long fileCount) {
    resources.increment(resourceCount);
    bytes.increment(byteCount);
    files.increment(fileCount);
  }

  /** @param reason {@code store-unreachable} or {@code error} */
  void partRetried(String reason) {
    Counter.builder("sluice.export.part.retries").tag("reason", reason)
        .description("Part attempts given back to be tried again").register(registry).increment();
  }

  /** @param state completed or failed */
  void jobEnded(String state) {
    Counter.builder("sluice.export.jobs.ended").tag("state", state)
        .description("Export jobs this process saw end").register(registry).increment();
  }

  void deidError() {
    deidErrors.increment();
  }

  /** The count of jobs in each state, every state present (0 when none). */
  void jobs(Map<String, Long> byState) {
    List<MultiGauge.Row<?>> rows = new ArrayList<>();
    byState.forEach((state, n) -> rows.add(MultiGauge.Row.of(Tags.of("state", state), n)));
    jobsByState.register(rows, true);
  }
}

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.store.ResourceIndexRows;
import dev.sluice.store.SearchIndexWriter;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The JVM work an import cannot skip for a line, alone: HAPI's strict parse (design decision 3)
 * and the line's search index and compartment rows, the two steps of imports.LineCheck, on one
 * thread, with no database, no HTTP, no batching and no other thread competing. What it prints
 * is a floor for any import path on this machine: the CPU seconds those two steps need for the
 * whole population, and the rate two cores would reach if they did nothing else (bench/README.md,
 * "Import", "The floor").
 *
 * <p>Run as bench/import-floor.sh says: java -cp target/sluice.jar bench/ImportFloor.java WARMUP_DIR DIR
 */
public class ImportFloor {
  public static void main(String[] args) throws Exception {
    Path warmup = Path.of(args[0]);
    Path dir = Path.of(args[1]);
    FhirModel fhir = new FhirModel();
    SearchParameters parameters = new SearchParameters(fhir);
    SearchIndexWriter index = new SearchIndexWriter(fhir, new PatientCompartment(fhir), parameters,
        new ParamExpressions(fhir), OwnBases.none());
    for (int round = 1; round <= 3; round++) {
      Pass p = pass(fhir, index, warmup);
      System.out.printf("warm-up %d (%s): %,d lines, %.1f s on one thread%n", round, warmup, p.lines, p.cpuNanos / 1e9);
    }
    Pass p = pass(fhir, index, dir);
    double cpu = p.cpuNanos / 1e9;
    double parse = cpu * p.parseNanos / (double) (p.parseNanos + p.rowsNanos);
    double rows = cpu - parse;
    System.out.printf("measured (%s): %,d lines, %,d index rows, %,d compartment rows%n", dir, p.lines, p.indexRows,
        p.compartmentRows);
    System.out.printf("one thread's CPU: %.1f s (strict parse %.1f s, index rows %.1f s): %.1f us per resource"
        + " (parse %.1f, rows %.1f)%n", cpu, parse, rows, 1e6 * cpu / p.lines, 1e6 * parse / p.lines,
        1e6 * rows / p.lines);
    System.out.printf("besides: garbage collection %.1f s of pauses and concurrent work in %d collections; the JVM's"
        + " CPU in all %.1f s%n", p.gcMillis / 1e3, p.gcCount, p.processCpuNanos / 1e9);
    System.out.printf("floor on %d cores, these two steps alone: %.1f s, %,.0f resources/s%n",
        Runtime.getRuntime().availableProcessors(), cpu / Runtime.getRuntime().availableProcessors(),
        p.lines / (cpu / Runtime.getRuntime().availableProcessors()));
    if (p.refused > 0) {
      throw new IllegalStateException(p.refused + " lines refused by the strict parse: the floor would be too low");
    }
  }

  private static final class Pass {
    long lines;
    long refused;
    long indexRows;
    long compartmentRows;
    long parseNanos;
    long rowsNanos;
    long cpuNanos;
    long processCpuNanos;
    long gcMillis;
    long gcCount;
  }

  /** The non-empty lines of a stream, each as its own array. */
  private static final class Lines {
    private final InputStream in;
    private byte[] buffer = new byte[1 << 20];
    private int start;
    private int end;
    private boolean eof;

    Lines(InputStream in) {
      this.in = in;
    }

    byte[] next() throws IOException {
      while (true) {
        for (int i = start; i < end; i++) {
          if (buffer[i] == '\n') {
            byte[] line = Arrays.copyOfRange(buffer, start, i);
            start = i + 1;
            if (line.length > 0) {
              return line;
            }
          }
        }
        if (eof) {
          byte[] rest = Arrays.copyOfRange(buffer, start, end);
          start = end;
          return rest.length > 0 ? rest : null;
        }
        // keep the partial line, make room, read more
        System.arraycopy(buffer, start, buffer, 0, end - start);
        end -= start;
        start = 0;
        if (end == buffer.length) {
          buffer = Arrays.copyOf(buffer, buffer.length * 2);
        }
        int n = in.read(buffer, end, buffer.length - end);
        if (n < 0) {
          eof = true;
        } else {
          end += n;
        }
      }
    }
  }

  private static Pass pass(FhirModel fhir, SearchIndexWriter index, Path dir) throws IOException {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
    long gc0 = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
    long gcCount0 = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    long process0 = os.getProcessCpuTime();
    Pass p = new Pass();
    List<Path> files;
    try (var list = Files.list(dir)) {
      files = list.filter(f -> f.toString().endsWith(".ndjson") || f.toString().endsWith(".ndjson.gz")).sorted()
          .toList();
    }
    long cpu = 0;
    for (Path f : files) {
      try (InputStream raw = Files.newInputStream(f);
          InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
        Lines lines = new Lines(in);
        for (byte[] bytes; (bytes = lines.next()) != null; ) {
          // only the two steps are on the clock, not the reading of the file
          long c0 = threads.getCurrentThreadCpuTime();
          long t0 = System.nanoTime();
          IBaseResource resource;
          try {
            resource = fhir.parse(bytes, Format.JSON);
          } catch (RuntimeException e) {
            p.refused++;
            continue;
          }
          long t1 = System.nanoTime();
          ResourceIndexRows rows = index.rows(resource.fhirType(), resource);
          long t2 = System.nanoTime();
          cpu += threads.getCurrentThreadCpuTime() - c0;
          p.parseNanos += t1 - t0;
          p.rowsNanos += t2 - t1;
          p.indexRows += rows.rows().size();
          p.compartmentRows += rows.patients().size();
          p.lines++;
        }
      }
    }
    p.cpuNanos = cpu;
    p.processCpuNanos = os.getProcessCpuTime() - process0;
    p.gcMillis = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum() - gc0;
    p.gcCount = gcs.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum() - gcCount0;
    return p;
  }
}

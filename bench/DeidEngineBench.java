import ca.uhn.fhir.context.FhirContext;
import dev.sluice.deid.AnonymizationConfig;
import dev.sluice.deid.Anonymizer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The de-identification engine alone, in one thread, on a folder of NDJSON(.gz): each resource parsed, anonymized
 * and written as an export part does, several rounds; prints per round the resources per CPU-second of this thread
 * and how the thread's CPU splits between parse, rules and write. Not a test: it asserts nothing about speed.
 *   java -cp target/sluice.jar bench/DeidEngineBench.java <configuration.json> <data folder> [rounds]
 */
public class DeidEngineBench {
  public static void main(String[] args) throws Exception {
    Anonymizer anonymizer = new Anonymizer(FhirContext.forR4Cached(),
        AnonymizationConfig.parse(Files.readAllBytes(Path.of(args[0]))));
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    List<byte[]> lines = new ArrayList<>();
    try (var list = Files.list(Path.of(args[1]))) {
      for (Path f : list.filter(p -> p.toString().endsWith(".ndjson.gz") || p.toString().endsWith(".ndjson")).sorted().toList()) {
        InputStream in = Files.newInputStream(f);
        if (f.toString().endsWith(".gz")) {
          in = new GZIPInputStream(in, 1 << 16);
        }
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
          String line;
          while ((line = r.readLine()) != null) {
            if (!line.isBlank()) {
              lines.add(line.getBytes(StandardCharsets.UTF_8));
            }
          }
        }
      }
    }
    var threads = ManagementFactory.getThreadMXBean();
    long outBytes = 0;
    for (int round = 1; round <= rounds; round++) {
      long parse = 0;
      long rules = 0;
      long write = 0;
      long bytes = 0;
      long start = threads.getCurrentThreadCpuTime();
      for (byte[] line : lines) {
        long a = threads.getCurrentThreadCpuTime();
        IBaseResource resource = anonymizer.parse(line, 0, line.length);
        long b = threads.getCurrentThreadCpuTime();
        anonymizer.anonymize(resource, null);
        long c = threads.getCurrentThreadCpuTime();
        bytes += anonymizer.write(resource).length;
        long d = threads.getCurrentThreadCpuTime();
        parse += b - a;
        rules += c - b;
        write += d - c;
      }
      double cpu = (threads.getCurrentThreadCpuTime() - start) / 1e9;
      outBytes = bytes;
      System.out.printf("round %d: %,d resources, %.2f CPU s, %,.0f resources per CPU-second"
          + " (parse %.0f %%, rules %.0f %%, write %.0f %%)%n", round, lines.size(), cpu, lines.size() / cpu,
          100.0 * parse / (parse + rules + write), 100.0 * rules / (parse + rules + write),
          100.0 * write / (parse + rules + write));
    }
    System.out.printf("%,d bytes out per round%n", outBytes);
  }
}

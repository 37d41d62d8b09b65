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
 * The de-identification engine alone, in one thread, on a folder of NDJSON(.gz), several rounds. Each round runs the
 * model engine (each resource parsed into HAPI's model, anonymized and written; CPU split into parse, rules and write)
 * and then the JSON walk as an export part uses it (the model engine for what the walk leaves), and prints resources
 * per CPU-second of this thread for both, with the load average. Not a test: it asserts nothing about speed.
 *   java -cp target/sluice.jar bench/DeidEngineBench.java <configuration.json> <data folder> [rounds]
 */
public class DeidEngineBench {
  private static String loadAverage() throws java.io.IOException {
    String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
    return fields[0] + " " + fields[1] + " " + fields[2];
  }

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
      System.out.printf("round %d model: %,d resources, %.2f CPU s, %,.0f resources per CPU-second"
          + " (parse %.0f %%, rules %.0f %%, write %.0f %%), load average %s%n", round, lines.size(), cpu, lines.size() / cpu,
          100.0 * parse / (parse + rules + write), 100.0 * rules / (parse + rules + write),
          100.0 * write / (parse + rules + write), loadAverage());
      long walkStart = threads.getCurrentThreadCpuTime();
      long walkBytes = 0;
      int walked = 0;
      for (byte[] line : lines) {
        byte[] out = anonymizer.walk(line, 0, line.length, null);
        if (out != null) {
          walked++;
        } else {
          out = anonymizer.write(anonymizer.anonymize(anonymizer.parse(line, 0, line.length), null));
        }
        walkBytes += out.length;
      }
      double walkCpu = (threads.getCurrentThreadCpuTime() - walkStart) / 1e9;
      System.out.printf("round %d walk:  %,d resources (%,d by the walk, the rest by the model engine), %.2f CPU s,"
          + " %,.0f resources per CPU-second, %.1fx the model engine, %s bytes as the model engine, load average %s%n",
          round, lines.size(), walked, walkCpu, lines.size() / walkCpu, cpu / walkCpu,
          walkBytes == bytes ? "same" : "NOT the same number of", loadAverage());
    }
    System.out.printf("%,d bytes out per round%n", outBytes);
  }
}

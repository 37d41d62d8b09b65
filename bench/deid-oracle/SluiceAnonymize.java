import ca.uhn.fhir.context.FhirContext;
import dev.sluice.deid.AnonymizationConfig;
import dev.sluice.deid.Anonymizer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Anonymizes NDJSON files with Sluice's engine (dev.sluice.deid.Anonymizer, what an export part runs on each
 * resource), writing files of the same names into a folder: the Sluice side of oracle comparisons on inputs that
 * cannot go through a server (the reference's own test resources: Bundles, resources without ids).
 *   java -cp target/sluice.jar bench/deid-oracle/SluiceAnonymize.java <configuration.json> <input.ndjson>... <out>
 */
public class SluiceAnonymize {
  public static void main(String[] args) throws Exception {
    Anonymizer anonymizer = new Anonymizer(FhirContext.forR4Cached(),
        AnonymizationConfig.parse(Files.readAllBytes(Path.of(args[0]))));
    Path out = Path.of(args[args.length - 1]);
    Files.createDirectories(out);
    for (int i = 1; i < args.length - 1; i++) {
      Path in = Path.of(args[i]);
      List<String> written = new ArrayList<>();
      for (String line : Files.readAllLines(in, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          written.add(new String(anonymizer.anonymize(line.getBytes(StandardCharsets.UTF_8), null), StandardCharsets.UTF_8));
        }
      }
      Files.write(out.resolve(in.getFileName()), written, StandardCharsets.UTF_8);
    }
  }
}

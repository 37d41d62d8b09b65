import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.ParamKind;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.store.Database;
import dev.sluice.store.ResourcePut;
import dev.sluice.store.ResourceStore;
import dev.sluice.store.SearchIndexWriter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.zip.GZIPInputStream;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;

/**
 * Indexing cost, in process, without HTTP: (1) FHIRPath extraction of every search
 * parameter per resource, (2) the store's write path with the search index (one
 * transaction of 1000 resources at a time, as a loader would), on a fresh embedded
 * PostgreSQL. Run as bench/README.md says (java -cp target/sluice.jar bench/IndexBench.java DIR [ROUNDS]).
 */
public class IndexBench {
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 1;
    FhirModel fhir = new FhirModel();
    List<IBaseResource> resources = new ArrayList<>();
    List<byte[]> lines = new ArrayList<>();
    try (var files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        String name = f.getFileName().toString();
        if (!name.endsWith(".ndjson") && !name.endsWith(".ndjson.gz")) {
          continue;
        }
        var in = name.endsWith(".gz") ? new GZIPInputStream(Files.newInputStream(f)) : Files.newInputStream(f);
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
          for (String line; (line = r.readLine()) != null; ) {
            if (!line.isBlank()) {
              byte[] bytes = line.getBytes(StandardCharsets.UTF_8);
              lines.add(bytes);
              resources.add(fhir.parse(bytes, Format.JSON));
            }
          }
        }
      }
    }
    SearchParameters parameters = new SearchParameters(fhir);
    ParamExpressions expressions = new ParamExpressions(fhir);
    for (int round = 0; round < 3; round++) {
      long values = 0;
      long t0 = System.nanoTime();
      for (IBaseResource res : resources) {
        String type = fhir.context().getResourceType(res);
        for (SearchParam p : parameters.of(type)) {
          if (p.kind() != ParamKind.SPECIAL && !p.expression().isEmpty()) {
            values += expressions.evaluate((Base) res, p.expression()).size();
          }
        }
      }
      double s = (System.nanoTime() - t0) / 1e9;
      System.out.printf("FHIRPath extraction (round %d): %d resources, %d values, %.0f resources/s on one thread%n",
          round + 1, resources.size(), values, resources.size() / s);
    }
    Path data = Files.createTempDirectory("sluice-indexbench");
    try (Database db = Database.open(new Database.Settings(data, null, null, null, 4), new SimpleMeterRegistry())) {
      PatientCompartment compartment = new PatientCompartment(fhir);
      ResourceStore store = new ResourceStore(db.dataSource(), fhir,
          new SearchIndexWriter(fhir, compartment, parameters, expressions, OwnBases.none()));
      for (int round = 0; round < rounds + 1; round++) {
        long t0 = System.nanoTime();
        for (int from = 0; from < resources.size(); from += 1000) {
          List<ResourcePut> puts = new ArrayList<>();
          for (int i = from; i < Math.min(from + 1000, resources.size()); i++) {
            IBaseResource r = resources.get(i);
            puts.add(new ResourcePut(fhir.context().getResourceType(r), r.getIdElement().getIdPart(), r, lines.get(i), false));
          }
          // the bulk write path a batch of PUTs takes (sluice load)
          store.writeBatch(puts);
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("%s: %d resources in %.1f s: %.0f resources/s (bulk write path of a batch + search index, one thread)%n",
            round == 0 ? "Write, first load" : "Write, update of all (round " + round + ")",
            resources.size(), s, resources.size() / s);
      }
      try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("""
              select (select count(*) from idx_token) + (select count(*) from idx_string)
                   + (select count(*) from idx_date) + (select count(*) from idx_number)
                   + (select count(*) from idx_quantity) + (select count(*) from idx_reference)
                   + (select count(*) from idx_uri)""")) {
        rs.next();
        System.out.printf("Search index rows: %d, %.1f per resource (compartment rows not counted)%n",
            rs.getLong(1), rs.getLong(1) / (double) resources.size());
      }
      // The search index alone: every resource re-indexed (old rows deleted, new rows copied),
      // 1000 per transaction, without the resource and version writes around it.
      Map<String, Long> pks = new HashMap<>();
      try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("select res_type || '/' || res_id, pk from resource")) {
        while (rs.next()) {
          pks.put(rs.getString(1), rs.getLong(2));
        }
      }
      SearchIndexWriter writer = new SearchIndexWriter(fhir, compartment, parameters, expressions, OwnBases.none());
      for (int round = 0; round < rounds; round++) {
        long t0 = System.nanoTime();
        long rowsNanos = 0;
        try (Connection c = db.dataSource().getConnection()) {
          c.setAutoCommit(false);
          for (int from = 0; from < resources.size(); from += 1000) {
            long r0 = System.nanoTime();
            SearchIndexWriter.Batch batch = writer.begin(c);
            for (IBaseResource r : resources.subList(from, Math.min(from + 1000, resources.size()))) {
              String type = fhir.context().getResourceType(r);
              batch.replace(pks.get(type + "/" + r.getIdElement().getIdPart()), type, r);
            }
            rowsNanos += System.nanoTime() - r0;
            batch.flush();
            c.commit();
          }
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("Search index alone, re-index of all: %d resources in %.1f s: %.0f resources/s (one thread;"
            + " %.1f s making rows in Java, the rest deleting and copying in PostgreSQL)%n",
            resources.size(), s, resources.size() / s, rowsNanos / 1e9);
      }
    } finally {
      try (var files = Files.walk(data)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }
}

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.postgresql.PGConnection;

/**
 * Starts Sluice (heap capped at 512 MB) on an empty data directory, loads the population
 * with bulk SQL (bench set-up only: COPY into resource and resource_version, meta set as a
 * write would set it; no compartment or search rows, which a system export does not read),
 * measures the raw read COPY (SELECT content FROM resource_version) TO a file, then runs a
 * system $export, downloads every file and prints the figures. With a fifth argument, a
 * de-identification configuration, the export is de-identified with it: the file is put in
 * the local store's anonymization container and named by {@code _anonymizationConfig}.
 */
public class ExportBench {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int STAGE_BATCH = 20_000;

  public static void main(String[] args) throws Exception {
    String java = args[0];
    String jar = args[1];
    Path data = Path.of(args[2]);
    Path work = Path.of(args[3]);
    Path deidConfig = args.length > 4 ? Path.of(args[4]) : null;
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = work.resolve("server.log");
    Process server = new ProcessBuilder(java, "-Xmx512m", "-jar", jar, "serve", "--port", Integer.toString(port),
        "--data-dir", work.resolve("server").toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      while (!Files.readString(log).contains("Sluice FHIR server ready")) {
        if (!server.isAlive()) {
          throw new IllegalStateException("server did not start:\n" + Files.readString(log));
        }
        Thread.sleep(200);
      }
      Matcher m = Pattern.compile("Embedded PostgreSQL started on port (\\d+)").matcher(Files.readString(log));
      m.find();
      String jdbc = "jdbc:postgresql://127.0.0.1:" + m.group(1) + "/postgres";
      String query = "";
      if (deidConfig != null) {
        Path dir = work.resolve("server/exports/anonymization");
        Files.createDirectories(dir);
        Files.copy(deidConfig, dir.resolve(deidConfig.getFileName()));
        query = "?_container=bench-deid&_anonymizationConfig=" + deidConfig.getFileName();
        System.out.println("de-identified with " + deidConfig.getFileName());
      }
      try (Connection c = DriverManager.getConnection(jdbc, "postgres",
          Files.readString(work.resolve("server/postgres.password")).trim())) {
        long loaded = load(c, data);
        run(c, server, port, loaded, work, query);
      }
    } finally {
      server.destroy();
      server.waitFor();
    }
  }

  /** User + system CPU seconds of a process so far, from /proc (clock ticks of 1/100 s). */
  static double cpuSeconds(Process p) throws Exception {
    String stat = Files.readString(Path.of("/proc/" + p.pid() + "/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  static long load(Connection c, Path data) throws Exception {
    long started = System.nanoTime();
    String now = Instant.now().minusSeconds(60).toString();
    try (Statement s = c.createStatement()) {
      s.execute("create temp table stage (res_type text, res_id text, content text)");
    }
    var copy = c.unwrap(PGConnection.class).getCopyAPI();
    long total = 0;
    List<Path> files = new ArrayList<>();
    try (var list = Files.list(data)) {
      list.filter(p -> p.toString().endsWith(".ndjson.gz") || p.toString().endsWith(".ndjson")).sorted().forEach(files::add);
    }
    for (Path f : files) {
      InputStream in = Files.newInputStream(f);
      if (f.toString().endsWith(".gz")) {
        in = new GZIPInputStream(in, 1 << 16);
      }
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        StringBuilder batch = new StringBuilder();
        int n = 0;
        String line;
        while ((line = r.readLine()) != null) {
          if (line.isBlank()) {
            continue;
          }
          ObjectNode src = (ObjectNode) JSON.readTree(line);
          ObjectNode out = JSON.createObjectNode();
          out.set("resourceType", src.get("resourceType"));
          out.set("id", src.get("id"));
          out.putObject("meta").put("versionId", "1").put("lastUpdated", now);
          src.properties().forEach(e -> {
            if (!e.getKey().equals("meta") && !out.has(e.getKey())) {
              out.set(e.getKey(), e.getValue());
            }
          });
          String json = JSON.writeValueAsString(out);
          batch.append(src.get("resourceType").asText()).append('\t').append(src.get("id").asText()).append('\t')
              .append(json.replace("\\", "\\\\")).append('\n');
          if (++n % STAGE_BATCH == 0) {
            copy.copyIn("copy stage from stdin", new StringReader(batch.toString()));
            batch.setLength(0);
          }
        }
        copy.copyIn("copy stage from stdin", new StringReader(batch.toString()));
        total += n;
      }
    }
    try (Statement s = c.createStatement()) {
      s.execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
          + " select res_type, res_id, 1, '" + now + "', false from stage");
      s.execute("insert into resource_version (pk, version, res_type, res_id, last_updated, deleted, content)"
          + " select r.pk, 1, s.res_type, s.res_id, r.last_updated, false, convert_to(s.content, 'UTF8')"
          + " from stage s join resource r using (res_type, res_id) order by r.pk");
      s.execute("drop table stage");
      s.execute("vacuum analyze resource");
      s.execute("vacuum analyze resource_version");
    }
    System.out.printf("loaded %,d resources with bulk SQL in %.1f s%n", total, (System.nanoTime() - started) / 1e9);
    return total;
  }

  static void run(Connection c, Process server, int port, long loaded, Path work, String query) throws Exception {
    // The raw read, three ways; the baseline is the fastest (the hardest to match): plain
    // text COPY writes bytea as hex (twice the bytes), convert_from writes the JSON text
    // (escaping backslashes), binary writes the bytes with a little framing.
    Path raw = work.resolve("raw-read.out");
    String[] variants = {
        "copy (select content from resource_version) to '%s'",
        "copy (select convert_from(content, 'UTF8') from resource_version) to '%s'",
        "copy (select content from resource_version) to '%s' (format binary)"};
    double rawSeconds = Double.MAX_VALUE;
    String rawVariant = null;
    long rawBytes = 0;
    for (String v : variants) {
      double best = Double.MAX_VALUE;
      for (int i = 0; i < 2; i++) {
        Files.deleteIfExists(raw);
        long t = System.nanoTime();
        try (Statement s = c.createStatement()) {
          s.execute(v.formatted(raw.toAbsolutePath()));
        }
        best = Math.min(best, (System.nanoTime() - t) / 1e9);
      }
      System.out.printf("raw read %.2f s, %,d bytes: %s%n", best, Files.size(raw), v.formatted("<file>"));
      if (best < rawSeconds) {
        rawSeconds = best;
        rawVariant = v.formatted("<file>");
        rawBytes = Files.size(raw);
      }
    }
    Files.deleteIfExists(raw);
    String base = "http://127.0.0.1:" + port + "/fhir";
    HttpClient http = HttpClient.newHttpClient();
    double exportSeconds = Double.MAX_VALUE;
    double downloadSeconds = 0;
    long exported = 0;
    long downloaded = 0;
    long downloadedBytes = 0;
    double exportCpu = 0;
    for (int round = 0; round < 2; round++) {
      long t = System.nanoTime();
      double cpuBefore = cpuSeconds(server);
      HttpResponse<String> kick = http.send(HttpRequest.newBuilder(URI.create(base + "/$export" + query))
          .header("Accept", "application/fhir+json").header("Prefer", "respond-async")
          .header("Authorization", "Bearer round-" + round).build(), HttpResponse.BodyHandlers.ofString());
      if (kick.statusCode() != 202) {
        throw new IllegalStateException("kick-off: " + kick.statusCode() + " " + kick.body());
      }
      String status = kick.headers().firstValue("Content-Location").orElseThrow();
      HttpResponse<String> r;
      while ((r = http.send(HttpRequest.newBuilder(URI.create(status)).build(), HttpResponse.BodyHandlers.ofString()))
          .statusCode() == 202) {
        Thread.sleep(20);
      }
      if (r.statusCode() != 200) {
        throw new IllegalStateException("export: " + r.statusCode() + " " + r.body());
      }
      double seconds = (System.nanoTime() - t) / 1e9;
      double cpu = cpuSeconds(server) - cpuBefore;
      var manifest = JSON.readTree(r.body());
      exported = 0;
      for (var f : manifest.get("output")) {
        exported += f.get("count").asLong();
      }
      long d = System.nanoTime();
      downloaded = 0;
      downloadedBytes = 0;
      for (var f : manifest.get("output")) {
        HttpResponse<InputStream> file = http.send(HttpRequest.newBuilder(URI.create(f.get("url").asText())).build(),
            HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = file.body()) {
          byte[] buf = new byte[1 << 16];
          int n;
          while ((n = in.read(buf)) > 0) {
            downloadedBytes += n;
            for (int i = 0; i < n; i++) {
              if (buf[i] == '\n') {
                downloaded++;
              }
            }
          }
        }
      }
      if (seconds < exportSeconds) {
        exportSeconds = seconds;
        exportCpu = cpu;
        downloadSeconds = (System.nanoTime() - d) / 1e9;
      }
      System.out.printf("round %d: export %.2f s (server CPU %.1f s), download %.2f s%n", round + 1, seconds, cpu,
          (System.nanoTime() - d) / 1e9);
    }
    if (exported != loaded || downloaded != loaded) {
      throw new IllegalStateException("exported " + exported + ", downloaded " + downloaded + ", loaded " + loaded);
    }
    long rss = 0;
    for (String l : Files.readAllLines(Path.of("/proc/" + server.pid() + "/status"))) {
      if (l.startsWith("VmHWM:")) {
        rss = Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    double rawRate = loaded / rawSeconds;
    double exportRate = exported / exportSeconds;
    double withDownload = exported / (exportSeconds + downloadSeconds);
    System.out.printf("%nresources                  %,d (%,d bytes of NDJSON)%n", loaded, downloadedBytes);
    System.out.printf("raw read (fastest COPY)    %.2f s  %,.0f resources/s  (%,d bytes; %s)%n", rawSeconds, rawRate, rawBytes,
        rawVariant);
    System.out.printf("export (kick-off→manifest) %.2f s  %,.0f resources/s%s%n", exportSeconds, exportRate,
        query.isEmpty() ? "" : "  (de-identified)");
    // the machine may be shared: CPU seconds of the server JVM (PostgreSQL not included) do not depend on its load
    System.out.printf("export server CPU          %.1f s  %,.0f resources per CPU-second%n", exportCpu,
        exported / exportCpu);
    System.out.printf("export + download          %.2f s  %,.0f resources/s%n", exportSeconds + downloadSeconds, withDownload);
    System.out.printf("ratio export / raw read    %.0f %%%n", 100 * exportRate / rawRate);
    System.out.printf("server peak RSS (VmHWM)    %,d MB  (heap capped at 512 MB)%n", rss);
  }
}

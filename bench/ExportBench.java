import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
 * Starts Sluice (heap capped at 512 MB, {@link #WORKERS} export workers) on an empty data
 * directory, loads the population with bulk SQL (bench set-up only: COPY into resource and
 * resource_version, meta set as a write would set it; no compartment or search rows, which a
 * system export does not read), measures the raw read two ways (one serial COPY, and as many
 * parallel COPYs over pk ranges as the export has workers), then runs a system $export twice,
 * downloads every file of each round and checks its counts and that no id repeats, and prints
 * the figures. With a fifth argument, a
 * de-identification configuration, the export is de-identified with it: the file is put in
 * the local store's anonymization container and named by {@code _anonymizationConfig}.
 */
public class ExportBench {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int STAGE_BATCH = 20_000;
  /** The server's export workers, and so the number of parallel COPYs of the second baseline. */
  static final int WORKERS = 2;

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
        "--data-dir", work.resolve("server").toString(), "--export-workers", Integer.toString(WORKERS)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      while (!Files.readString(log).contains("Sluice FHIR server ready")) {
        if (!server.isAlive()) {
          throw new IllegalStateException("server did not start:\n" + Files.readString(log));
        }
        Thread.sleep(200);
      }
      Matcher m = Pattern.compile("Embedded PostgreSQL started on port (\\d+)").matcher(Files.readString(log));
      m.find();
      // the embedded PostgreSQL's password, in the URL for every connection the bench opens
      String jdbc = "jdbc:postgresql://127.0.0.1:" + m.group(1) + "/postgres?password="
          + Files.readString(work.resolve("server/postgres.password")).trim();
      String query = "";
      if (deidConfig != null) {
        Path dir = work.resolve("server/exports/anonymization");
        Files.createDirectories(dir);
        Files.copy(deidConfig, dir.resolve(deidConfig.getFileName()));
        query = "?_container=bench-deid&_anonymizationConfig=" + deidConfig.getFileName();
        System.out.println("de-identified with " + deidConfig.getFileName());
      }
      try (Connection c = DriverManager.getConnection(jdbc, "postgres", null)) {
        long loaded = load(c, data);
        run(c, jdbc, server, port, loaded, work, query);
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

  static void run(Connection c, String jdbc, Process server, int port, long loaded, Path work, String query)
      throws Exception {
    // The raw read, three ways; the serial baseline is the fastest (the hardest to match):
    // plain text COPY writes bytea as hex (twice the bytes), convert_from writes the JSON text
    // (escaping backslashes), binary writes the bytes with a little framing.
    Path raw = work.resolve("raw-read.out");
    String[] variants = {
        "copy (select content from resource_version%s) to '%s'",
        "copy (select convert_from(content, 'UTF8') from resource_version%s) to '%s'",
        "copy (select content from resource_version%s) to '%s' (format binary)"};
    double rawSeconds = Double.MAX_VALUE;
    String rawVariant = null;
    long rawBytes = 0;
    for (String v : variants) {
      double best = Double.MAX_VALUE;
      for (int i = 0; i < 2; i++) {
        Files.deleteIfExists(raw);
        long t = System.nanoTime();
        try (Statement s = c.createStatement()) {
          s.execute(v.formatted("", raw.toAbsolutePath()));
        }
        best = Math.min(best, (System.nanoTime() - t) / 1e9);
      }
      System.out.printf("raw read %.2f s, %,d bytes: %s%n", best, Files.size(raw), v.formatted("", "<file>"));
      if (best < rawSeconds) {
        rawSeconds = best;
        rawVariant = v;
        rawBytes = Files.size(raw);
      }
    }
    Files.deleteIfExists(raw);
    double parallelSeconds = parallelRawRead(c, jdbc, work, rawVariant);
    double baselineSeconds = Math.min(rawSeconds, parallelSeconds);
    String base = "http://127.0.0.1:" + port + "/fhir";
    HttpClient http = HttpClient.newHttpClient();
    double exportSeconds = Double.MAX_VALUE;
    double downloadSeconds = 0;
    long downloadedBytes = 0;
    double exportCpu = 0;
    Path downloads = work.resolve("downloads");
    // a de-identified export is compared with the plain one of the same server and data, run just before it
    double plainSeconds = query.isEmpty() ? 0 : Math.min(kickOffToManifest(http, base, "", "plain-1"),
        kickOffToManifest(http, base, "", "plain-2"));
    if (!query.isEmpty()) {
      System.out.printf("plain export (kick-off→manifest) %.2f s, best of 2%n", plainSeconds);
    }
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
      long d = System.nanoTime();
      deleteTree(downloads);
      Files.createDirectories(downloads);
      List<Path> files = new ArrayList<>();
      List<Long> counts = new ArrayList<>();
      long bytes = 0;
      for (var f : manifest.get("output")) {
        Path file = downloads.resolve(files.size() + ".ndjson");
        HttpResponse<Path> got = http.send(HttpRequest.newBuilder(URI.create(f.get("url").asText())).build(),
            HttpResponse.BodyHandlers.ofFile(file));
        if (got.statusCode() != 200) {
          throw new IllegalStateException("download of " + f.get("url").asText() + ": " + got.statusCode());
        }
        bytes += Files.size(file);
        files.add(file);
        counts.add(f.get("count").asLong());
      }
      double download = (System.nanoTime() - d) / 1e9;
      // checked after the clock stops: every round, not only the last
      check(round + 1, files, counts, loaded);
      deleteTree(downloads);
      if (seconds < exportSeconds) {
        exportSeconds = seconds;
        exportCpu = cpu;
        downloadSeconds = download;
        downloadedBytes = bytes;
      }
      System.out.printf("round %d: export %.2f s (server CPU %.1f s), download %.2f s, %,d resources, ids unique%n",
          round + 1, seconds, cpu, download, loaded);
    }
    long rss = 0;
    for (String l : Files.readAllLines(Path.of("/proc/" + server.pid() + "/status"))) {
      if (l.startsWith("VmHWM:")) {
        rss = Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    double exportRate = loaded / exportSeconds;
    double withDownload = loaded / (exportSeconds + downloadSeconds);
    System.out.printf("%nresources                  %,d (%,d bytes of NDJSON)%n", loaded, downloadedBytes);
    System.out.printf("raw read, 1 COPY           %.2f s  %,.0f resources/s  (%,d bytes; %s)%n", rawSeconds,
        loaded / rawSeconds, rawBytes, rawVariant.formatted("", "<file>"));
    System.out.printf("raw read, %d COPYs by pk    %.2f s  %,.0f resources/s  (the same format, in parallel)%n",
        WORKERS, parallelSeconds, loaded / parallelSeconds);
    System.out.printf("export (kick-off→manifest) %.2f s  %,.0f resources/s  (%d workers)%s%n", exportSeconds,
        exportRate, WORKERS, query.isEmpty() ? "" : "  (de-identified)");
    // the machine may be shared: CPU seconds of the server JVM (PostgreSQL not included) do not depend on its load
    System.out.printf("export server CPU          %.1f s  %,.0f resources per CPU-second%n", exportCpu,
        loaded / exportCpu);
    System.out.printf("export + download          %.2f s  %,.0f resources/s%n", exportSeconds + downloadSeconds, withDownload);
    System.out.printf("ratio export / raw read    %.0f %%  (to the faster raw read: %s)%n",
        100 * baselineSeconds / exportSeconds, baselineSeconds == rawSeconds ? "1 COPY" : WORKERS + " COPYs");
    if (!query.isEmpty()) {
      System.out.printf("plain export, same run      %.2f s  %,.0f resources/s; de-identified at %.0f %% of its rate%n",
          plainSeconds, loaded / plainSeconds, 100 * plainSeconds / exportSeconds);
    }
    System.out.printf("load average at the end    %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
    System.out.printf("server peak RSS (VmHWM)    %,d MB  (heap capped at 512 MB)%n", rss);
  }

  /** One export from kick-off to manifest, in seconds; its files are not downloaded. */
  static double kickOffToManifest(HttpClient http, String base, String query, String token) throws Exception {
    long t = System.nanoTime();
    HttpResponse<String> kick = http.send(HttpRequest.newBuilder(URI.create(base + "/$export" + query))
        .header("Accept", "application/fhir+json").header("Prefer", "respond-async")
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
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
    return (System.nanoTime() - t) / 1e9;
  }

  /**
   * The raw read split as the export splits its work: {@link #WORKERS} COPYs over equal pk
   * ranges, each on its own connection, all at once; best of two.
   */
  static double parallelRawRead(Connection c, String jdbc, Path work, String variant) throws Exception {
    long min;
    long max;
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("select min(pk), max(pk) from resource_version")) {
      r.next();
      min = r.getLong(1);
      max = r.getLong(2);
    }
    long step = (max - min) / WORKERS + 1;
    double best = Double.MAX_VALUE;
    for (int attempt = 0; attempt < 2; attempt++) {
      List<Connection> connections = new ArrayList<>();
      List<Thread> threads = new ArrayList<>();
      List<Exception> failures = java.util.Collections.synchronizedList(new ArrayList<>());
      try {
        for (int i = 0; i < WORKERS; i++) {
          connections.add(DriverManager.getConnection(jdbc, "postgres", null));
        }
        long t = System.nanoTime();
        for (int i = 0; i < WORKERS; i++) {
          Connection own = connections.get(i);
          Path out = work.resolve("raw-read-" + i + ".out");
          String sql = variant.formatted(" where pk >= " + (min + i * step) + " and pk < " + (min + (i + 1) * step),
              out.toAbsolutePath());
          threads.add(Thread.ofPlatform().start(() -> {
            try (Statement s = own.createStatement()) {
              Files.deleteIfExists(out);
              s.execute(sql);
            } catch (Exception e) {
              failures.add(e);
            }
          }));
        }
        for (Thread thread : threads) {
          thread.join();
        }
        best = Math.min(best, (System.nanoTime() - t) / 1e9);
      } finally {
        for (Connection own : connections) {
          own.close();
        }
      }
      if (!failures.isEmpty()) {
        throw failures.getFirst();
      }
    }
    long bytes = 0;
    for (int i = 0; i < WORKERS; i++) {
      Path out = work.resolve("raw-read-" + i + ".out");
      bytes += Files.size(out);
      Files.delete(out);
    }
    System.out.printf("raw read %.2f s, %,d bytes: %d COPYs over pk ranges at once%n", best, bytes, WORKERS);
    return best;
  }

  /** Each file holds the count its manifest entry says; all hold every loaded resource once. */
  static void check(int round, List<Path> files, List<Long> counts, long loaded) throws Exception {
    var seen = new java.util.HashSet<String>();
    long total = 0;
    long repeated = 0;
    for (int i = 0; i < files.size(); i++) {
      long lines = 0;
      try (BufferedReader r = Files.newBufferedReader(files.get(i), StandardCharsets.UTF_8)) {
        String line;
        while ((line = r.readLine()) != null) {
          if (line.isEmpty()) {
            continue;
          }
          lines++;
          if (!seen.add(typeAndId(line))) {
            repeated++;
          }
        }
      }
      if (lines != counts.get(i)) {
        throw new IllegalStateException("round " + round + ": " + files.get(i) + " holds " + lines
            + " resources, its manifest entry says " + counts.get(i));
      }
      total += lines;
    }
    if (total != loaded || repeated != 0 || seen.size() != loaded) {
      throw new IllegalStateException("round " + round + ": exported " + total + " resources, " + seen.size()
          + " distinct, " + repeated + " repeated, loaded " + loaded);
    }
  }

  /** "Type/id" from the top-level fields of one NDJSON line, skipping everything else. */
  static String typeAndId(String line) throws Exception {
    try (JsonParser p = JSON.getFactory().createParser(line)) {
      String type = null;
      String id = null;
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalStateException("not a JSON object: " + line.substring(0, Math.min(80, line.length())));
      }
      while (p.nextToken() == JsonToken.FIELD_NAME && (type == null || id == null)) {
        String name = p.currentName();
        p.nextToken();
        switch (name) {
          case "resourceType" -> type = p.getText();
          case "id" -> id = p.getText();
          default -> p.skipChildren();
        }
      }
      if (type == null || id == null) {
        throw new IllegalStateException("no resourceType or id: " + line.substring(0, Math.min(80, line.length())));
      }
      return type + "/" + id;
    }
  }

  static void deleteTree(Path dir) throws Exception {
    if (Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}

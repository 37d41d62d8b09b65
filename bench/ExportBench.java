import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
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
  /**
   * BENCH_MODE: empty (the raw read and the system export), download (target 3), levels (target 2),
   * or sql (bench/levels-sql.sh: loaded as for levels, then the server kept until standard input ends).
   */
  static final String MODE = System.getenv().getOrDefault("BENCH_MODE", "");

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
    Path log = work.resolve(MODE.isEmpty() ? "server.log" : "server-" + MODE + ".log");
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
        switch (MODE) {
          case "" -> run(c, jdbc, server, port, loaded, work, query);
          case "download" -> DownloadBench.run(server, port, loaded, work);
          case "levels" -> LevelsBench.run(c, server, port, loaded, work);
          case "sql" -> {
            System.out.println("bench: loaded; PostgreSQL port " + m.group(1));
            System.in.transferTo(OutputStream.nullOutputStream());
          }
          default -> throw new IllegalArgumentException("BENCH_MODE " + MODE + ": expected download, levels or sql");
        }
      }
    } finally {
      server.destroy();
      server.waitFor();
    }
  }

  /**
   * CPU seconds of the server's embedded PostgreSQL so far: the postmaster's own and its reaped
   * children's (ended backends), plus its live children's, from /proc (clock ticks of 1/100 s).
   */
  static double postgresCpuSeconds(Path work) throws Exception {
    Path pidFile = work.resolve("server").resolve("postgres").resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return 0;
    }
    String postmaster = Files.readAllLines(pidFile).getFirst().trim();
    long ticks = 0;
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).toList()) {
        String[] f;
        try {
          String stat = Files.readString(proc.resolve("stat"));
          f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (java.io.IOException gone) {
          continue; // ended while listed: its CPU is in the postmaster's reaped children
        }
        if (proc.getFileName().toString().equals(postmaster)) {
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } else if (f[1].equals(postmaster)) {
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
        }
      }
    }
    return ticks / 100.0;
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
      s.execute("create temp table stage_compartment (res_type text, res_id text, patient_id text)");
    }
    // Patient and Group level read the compartment table: filled with the server's own derivation
    boolean compartments = MODE.equals("levels") || MODE.equals("sql");
    var fhir = compartments ? new dev.sluice.fhir.FhirModel() : null;
    var compartment = compartments ? new dev.sluice.fhir.PatientCompartment(fhir) : null;
    StringBuilder owners = new StringBuilder();
    long ownerRows = 0;
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
          if (compartments) {
            String type = src.get("resourceType").asText();
            for (String patient : compartment.patientIds(type, fhir.parse(json.getBytes(StandardCharsets.UTF_8),
                dev.sluice.fhir.Format.JSON))) {
              owners.append(type).append('\t').append(src.get("id").asText()).append('\t').append(patient).append('\n');
              ownerRows++;
            }
          }
          if (++n % STAGE_BATCH == 0) {
            copy.copyIn("copy stage from stdin", new StringReader(batch.toString()));
            batch.setLength(0);
            copy.copyIn("copy stage_compartment from stdin", new StringReader(owners.toString()));
            owners.setLength(0);
          }
        }
        copy.copyIn("copy stage from stdin", new StringReader(batch.toString()));
        copy.copyIn("copy stage_compartment from stdin", new StringReader(owners.toString()));
        owners.setLength(0);
        total += n;
      }
    }
    try (Statement s = c.createStatement()) {
      s.execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
          + " select res_type, res_id, 1, '" + now + "', false from stage");
      s.execute("insert into resource_version (pk, version, res_type, res_id, last_updated, deleted, content)"
          + " select r.pk, 1, s.res_type, s.res_id, r.last_updated, false, convert_to(s.content, 'UTF8')"
          + " from stage s join resource r using (res_type, res_id) order by r.pk");
      s.execute("insert into compartment (patient_id, res_pk, res_type)"
          + " select s.patient_id, r.pk, r.res_type from stage_compartment s join resource r using (res_type, res_id)");
      s.execute("drop table stage");
      s.execute("drop table stage_compartment");
      s.execute("vacuum analyze resource");
      s.execute("vacuum analyze resource_version");
      s.execute("vacuum analyze compartment");
    }
    System.out.printf("loaded %,d resources with bulk SQL in %.1f s%s%n", total, (System.nanoTime() - started) / 1e9,
        compartments ? String.format(" (and %,d compartment rows, derived by the server's PatientCompartment)", ownerRows) : "");
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
    double exportPgCpu = 0;
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
      double pgBefore = postgresCpuSeconds(work);
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
      double pgCpu = postgresCpuSeconds(work) - pgBefore;
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
        exportPgCpu = pgCpu;
        downloadSeconds = download;
        downloadedBytes = bytes;
      }
      System.out.printf("round %d: export %.2f s (server CPU %.1f s, PostgreSQL CPU %.1f s), download %.2f s, %,d resources,"
          + " ids unique, load average %s%n", round + 1, seconds, cpu, pgCpu, download, loaded,
          Files.readString(Path.of("/proc/loadavg")).trim());
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
    System.out.printf("export PostgreSQL CPU      %.1f s  %,.0f resources per CPU-second of server and PostgreSQL%n",
        exportPgCpu, loaded / (exportCpu + exportPgCpu));
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
    checkSeen(round, files, counts, loaded);
  }

  /** Reads a downloaded file, gunzipping one saved as {@code .gz}. */
  static BufferedReader open(Path file) throws Exception {
    InputStream in = Files.newInputStream(file);
    if (file.toString().endsWith(".gz")) {
      in = new GZIPInputStream(in, 1 << 16);
    }
    return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16);
  }

  /** As {@link #check}, and returns the "Type/id" of every line. */
  static java.util.Set<String> checkSeen(int round, List<Path> files, List<Long> counts, long loaded) throws Exception {
    var seen = new java.util.HashSet<String>();
    long total = 0;
    long repeated = 0;
    for (int i = 0; i < files.size(); i++) {
      long lines = 0;
      try (BufferedReader r = open(files.get(i))) {
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
    return seen;
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

/** One export, kick-off to manifest: its seconds, the server's CPU seconds, the manifest, the job's id. */
record Exported(double seconds, double cpu, com.fasterxml.jackson.databind.JsonNode manifest, String job) {
  /**
   * The status poll's step, the same for every export measured: the clock stops at the first
   * 200, so an export's time is rounded up by up to one step (and its request).
   */
  static final long POLL_MILLIS = 10;

  static Exported run(HttpClient http, String base, String path, String token, Process server) throws Exception {
    long t = System.nanoTime();
    double cpuBefore = ExportBench.cpuSeconds(server);
    HttpResponse<String> kick = http.send(HttpRequest.newBuilder(URI.create(base + path))
        .header("Accept", "application/fhir+json").header("Prefer", "respond-async")
        .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
    if (kick.statusCode() != 202) {
      throw new IllegalStateException("kick-off " + path + ": " + kick.statusCode() + " " + kick.body());
    }
    String status = kick.headers().firstValue("Content-Location").orElseThrow();
    HttpResponse<String> r;
    while ((r = http.send(HttpRequest.newBuilder(URI.create(status)).build(), HttpResponse.BodyHandlers.ofString()))
        .statusCode() == 202) {
      Thread.sleep(POLL_MILLIS);
    }
    if (r.statusCode() != 200) {
      throw new IllegalStateException("export " + path + ": " + r.statusCode() + " " + r.body());
    }
    return new Exported((System.nanoTime() - t) / 1e9, ExportBench.cpuSeconds(server) - cpuBefore,
        ExportBench.JSON.readTree(r.body()), status.substring(status.lastIndexOf('/') + 1));
  }
}

/**
 * Every file of a manifest downloaded over HTTP, one after the other, into {@code dir}: plain,
 * or with {@code Accept-Encoding: gzip} (saved as it came, {@code .gz}; the answer must say
 * {@code Content-Encoding: gzip}). Bytes are those on the wire.
 */
record Downloaded(double seconds, double cpu, double clientCpu, long bytes, List<Path> files, List<Long> counts) {
  /** CPU seconds of this bench process (the HTTP client), from /proc. */
  static double processCpu() throws Exception {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  /**
   * The same plain download with curl (one process, one connection kept alive for every file):
   * Java's HttpClient spends about three times the server's CPU on a download, so it measures
   * itself as much as the server.
   */
  static Downloaded curl(com.fasterxml.jackson.databind.JsonNode manifest, Path dir, Process server) throws Exception {
    ExportBench.deleteTree(dir);
    Files.createDirectories(dir);
    List<String> command = new ArrayList<>(List.of("curl", "--silent", "--show-error", "--fail"));
    List<Path> files = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    for (var f : manifest.get("output")) {
      Path file = dir.resolve(files.size() + ".ndjson");
      command.addAll(List.of("-o", file.toString(), f.get("url").asText()));
      files.add(file);
      counts.add(f.get("count").asLong());
    }
    double cpuBefore = ExportBench.cpuSeconds(server);
    long t = System.nanoTime();
    Process curl = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(curl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (curl.waitFor() != 0) {
      throw new IllegalStateException("curl failed: " + output);
    }
    double seconds = (System.nanoTime() - t) / 1e9;
    double cpu = ExportBench.cpuSeconds(server) - cpuBefore;
    long bytes = 0;
    for (Path file : files) {
      bytes += Files.size(file);
    }
    return new Downloaded(seconds, cpu, Double.NaN, bytes, files, counts);
  }

  static Downloaded run(HttpClient http, com.fasterxml.jackson.databind.JsonNode manifest, Path dir, boolean gzip,
      Process server) throws Exception {
    ExportBench.deleteTree(dir);
    Files.createDirectories(dir);
    List<Path> files = new ArrayList<>();
    List<Long> counts = new ArrayList<>();
    long bytes = 0;
    double cpuBefore = ExportBench.cpuSeconds(server);
    double clientBefore = processCpu();
    long t = System.nanoTime();
    for (var f : manifest.get("output")) {
      Path file = dir.resolve(files.size() + (gzip ? ".ndjson.gz" : ".ndjson"));
      var request = HttpRequest.newBuilder(URI.create(f.get("url").asText()));
      if (gzip) {
        request.header("Accept-Encoding", "gzip");
      }
      HttpResponse<Path> got = http.send(request.build(), HttpResponse.BodyHandlers.ofFile(file));
      if (got.statusCode() != 200) {
        throw new IllegalStateException("download of " + f.get("url").asText() + ": " + got.statusCode());
      }
      if (gzip != got.headers().firstValue("Content-Encoding").orElse("").equals("gzip")) {
        throw new IllegalStateException("download of " + f.get("url").asText() + ": Content-Encoding "
            + got.headers().firstValue("Content-Encoding").orElse("none") + (gzip ? " to a client accepting gzip" : ""));
      }
      bytes += Files.size(file);
      files.add(file);
      counts.add(f.get("count").asLong());
    }
    double seconds = (System.nanoTime() - t) / 1e9;
    return new Downloaded(seconds, ExportBench.cpuSeconds(server) - cpuBefore, processCpu() - clientBefore, bytes, files,
        counts);
  }
}

/**
 * Issue 13, target 3 ({@code bench/download.sh}): a system export, then every file of it
 * downloaded plain (Java's HttpClient, then curl), with gzip (the first request of each file),
 * and with gzip again; twice.
 * Each download is checked after its clock stops (counts per file, every resource once).
 */
final class DownloadBench {
  static void run(Process server, int port, long loaded, Path work) throws Exception {
    String base = "http://127.0.0.1:" + port + "/fhir";
    HttpClient http = HttpClient.newHttpClient();
    Path dir = work.resolve("downloads");
    double[] best = null;
    long plainBytes = 0;
    long gzipBytes = 0;
    for (int round = 1; round <= 2; round++) {
      Exported e = Exported.run(http, base, "/$export", "round-" + round, server);
      Downloaded plain = Downloaded.run(http, e.manifest(), dir, false, server);
      ExportBench.check(round, plain.files(), plain.counts(), loaded);
      Downloaded curl = Downloaded.curl(e.manifest(), dir, server);
      ExportBench.check(round, curl.files(), curl.counts(), loaded);
      Downloaded gzip1 = Downloaded.run(http, e.manifest(), dir, true, server);
      ExportBench.check(round, gzip1.files(), gzip1.counts(), loaded);
      Downloaded gzip2 = Downloaded.run(http, e.manifest(), dir, true, server);
      ExportBench.check(round, gzip2.files(), gzip2.counts(), loaded);
      ExportBench.deleteTree(dir);
      System.out.printf("round %d: export %.2f s (server CPU %.1f s); download plain %.2f s (server CPU %.1f s, client"
              + " %.1f s, %,d bytes), gzip first %.2f s (%.1f s, %.1f s, %,d bytes), gzip again %.2f s (%.1f s, %.1f s);"
              + " %,d resources, ids unique%n",
          round, e.seconds(), e.cpu(), plain.seconds(), plain.cpu(), plain.clientCpu(), plain.bytes(), gzip1.seconds(),
          gzip1.cpu(), gzip1.clientCpu(), gzip1.bytes(), gzip2.seconds(), gzip2.cpu(), gzip2.clientCpu(), loaded);
      System.out.printf("round %d: download plain with curl %.2f s (server CPU %.1f s)%n", round, curl.seconds(),
          curl.cpu());
      double[] figures = {e.seconds(), plain.seconds(), gzip1.seconds(), gzip2.seconds(), e.cpu(), plain.cpu(),
          gzip1.cpu(), gzip2.cpu(), plain.clientCpu(), gzip1.clientCpu(), gzip2.clientCpu(), curl.seconds(), curl.cpu()};
      if (best == null || e.seconds() + plain.seconds() < best[0] + best[1]) {
        best = figures;
      }
      plainBytes = plain.bytes();
      gzipBytes = gzip1.bytes();
    }
    double exportSeconds = best[0];
    System.out.printf("%nresources                       %,d (%,d bytes of NDJSON, %,d gzipped: %.0f %%)%n", loaded,
        plainBytes, gzipBytes, 100.0 * gzipBytes / plainBytes);
    System.out.printf("export (kick-off→manifest)      %.2f s  %,.0f resources/s  (server CPU %.1f s)%n", exportSeconds,
        loaded / exportSeconds, best[4]);
    line("download, plain", best[1], best[5], best[8], plainBytes, plainBytes);
    line("download, plain, curl", best[11], best[12], Double.NaN, plainBytes, plainBytes);
    line("download, gzip (first)", best[2], best[6], best[9], gzipBytes, plainBytes);
    line("download, gzip (again)", best[3], best[7], best[10], gzipBytes, plainBytes);
    System.out.printf("kick-off→last byte, plain       %.2f s  %,.0f resources/s  (%.0f %% of the export's rate)%n",
        exportSeconds + best[1], loaded / (exportSeconds + best[1]), 100 * exportSeconds / (exportSeconds + best[1]));
    System.out.printf("kick-off→last byte, plain, curl %.2f s  %,.0f resources/s  (%.0f %% of the export's rate)%n",
        exportSeconds + best[11], loaded / (exportSeconds + best[11]), 100 * exportSeconds / (exportSeconds + best[11]));
    System.out.printf("kick-off→last byte, gzip first  %.2f s  %,.0f resources/s  (%.0f %% of the export's rate)%n",
        exportSeconds + best[2], loaded / (exportSeconds + best[2]), 100 * exportSeconds / (exportSeconds + best[2]));
    System.out.printf("load average at the end         %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
  }

  private static void line(String what, double seconds, double cpu, double clientCpu, long wire, long plain) {
    // on a shared machine the wall clock is the machine's; the server's CPU per GB of NDJSON is not
    System.out.printf("%-31s %.2f s  %,.0f MB/s on the wire, %,.0f MB/s of NDJSON  (server CPU %.2f s: %.2f s per GB"
        + " of NDJSON; client CPU %.2f s)%n", what, seconds, wire / seconds / 1e6, plain / seconds / 1e6, cpu,
        cpu / (plain / 1e9), clientCpu);
  }
}

/**
 * Issue 13, target 2 ({@code bench/levels.sh}): the system export against Patient level, a
 * Group of every tenth patient and a Group of 10 patients, created over HTTP; each export
 * {@link #ROUNDS} times, interleaved: the best of each, and the median of its ratios to the
 * system export of the same round. Each export is downloaded after its clock stops and checked: per
 * file counts, and exactly the resources the level selects (from the compartment table).
 */
final class LevelsBench {
  /** Rounds of the four exports; the summary gives the best time of each and the median ratio. */
  static final int ROUNDS = 3;

  record Case(String name, String path, java.util.Set<String> expected) {}

  static void run(Connection c, Process server, int port, long loaded, Path work) throws Exception {
    String base = "http://127.0.0.1:" + port + "/fhir";
    HttpClient http = HttpClient.newHttpClient();
    List<String> patients = strings(c, "select res_id from resource where res_type = 'Patient' and not deleted order by res_id");
    List<String> tenth = new ArrayList<>();
    List<String> ten = new ArrayList<>();
    for (int i = 0; i < patients.size(); i++) {
      if (i % 10 == 0) {
        tenth.add(patients.get(i));
      }
      if (i % (patients.size() / 10) == 0 && ten.size() < 10) {
        ten.add(patients.get(i));
      }
    }
    group(http, base, "bench-tenth", tenth);
    group(http, base, "bench-ten", ten);
    String all = "select r.res_type || '/' || r.res_id from resource r where not r.deleted";
    String inAny = "select distinct r.res_type || '/' || r.res_id from resource r join compartment c on c.res_pk = r.pk"
        + " where not r.deleted";
    List<Case> cases = List.of(
        new Case("system", "/$export", java.util.Set.copyOf(strings(c, all))),
        new Case("Patient level", "/Patient/$export", java.util.Set.copyOf(strings(c, inAny))),
        new Case("Group of " + tenth.size() + " (10 %)", "/Group/bench-tenth/$export",
            java.util.Set.copyOf(strings(c, inAny + " and c.patient_id = any('{" + String.join(",", tenth) + "}')"))),
        new Case("Group of " + ten.size(), "/Group/bench-ten/$export",
            java.util.Set.copyOf(strings(c, inAny + " and c.patient_id = any('{" + String.join(",", ten) + "}')"))));
    double[] best = new double[cases.size()];
    double[] cpu = new double[cases.size()];
    java.util.Arrays.fill(best, Double.MAX_VALUE);
    // per case, its time over the system export's of the same round: on a shared machine the
    // rounds differ by several times, the ratio within a round much less
    List<List<Double>> ratios = new ArrayList<>();
    cases.forEach(k -> ratios.add(new ArrayList<>()));
    // the job's own time as the server recorded it (finished_at - created_at: the kick-off's insert
    // to the last part's finishing transaction), free of the HTTP round trips and of the status
    // poll's step, which is POLL_MILLIS whatever the export
    List<List<Double>> serverRatios = new ArrayList<>();
    cases.forEach(k -> serverRatios.add(new ArrayList<>()));
    double[] bestServer = new double[cases.size()];
    java.util.Arrays.fill(bestServer, Double.MAX_VALUE);
    Path dir = work.resolve("downloads");
    for (int round = 1; round <= ROUNDS; round++) {
      double system = 0;
      double systemServer = 0;
      for (int i = 0; i < cases.size(); i++) {
        Case k = cases.get(i);
        Exported e = Exported.run(http, base, k.path(), "round-" + round, server);
        Downloaded d = Downloaded.run(http, e.manifest(), dir, false, server);
        var seen = ExportBench.checkSeen(round, d.files(), d.counts(), k.expected().size());
        if (!seen.equals(k.expected())) {
          throw new IllegalStateException(k.name() + ", round " + round + ": the files do not hold exactly the "
              + k.expected().size() + " resources the level selects");
        }
        ExportBench.deleteTree(dir);
        double took = serverSeconds(c, e.job());
        if (i == 0) {
          system = e.seconds();
          systemServer = took;
        }
        ratios.get(i).add(e.seconds() / system);
        serverRatios.get(i).add(took / systemServer);
        bestServer[i] = Math.min(bestServer[i], took);
        System.out.printf("round %d: %-20s %.2f s (server CPU %.1f s), %,d resources, exactly those selected;"
            + " %3.0f %% of this round's system export; the job %.3f s in the server (%3.0f %%)%n", round, k.name(),
            e.seconds(), e.cpu(), k.expected().size(), 100 * e.seconds() / system, took, 100 * took / systemServer);
        if (e.seconds() < best[i]) {
          best[i] = e.seconds();
          cpu[i] = e.cpu();
        }
      }
    }
    System.out.println();
    for (int i = 0; i < cases.size(); i++) {
      Case k = cases.get(i);
      System.out.printf("%-20s %,8d resources (%4.1f %%)  %.2f s  %,9.0f resources/s  %3.0f %% of the system export's"
              + " time, %3.0f %% of its rate  (server CPU %.1f s)%n", k.name(), k.expected().size(),
          100.0 * k.expected().size() / cases.getFirst().expected().size(), best[i], k.expected().size() / best[i],
          100 * best[i] / best[0], 100 * (k.expected().size() / best[i]) / (cases.getFirst().expected().size() / best[0]),
          cpu[i]);
    }
    System.out.println();
    for (int i = 1; i < cases.size(); i++) {
      System.out.printf("%-20s median of the rounds' ratios: %3.0f %% of the system export's time (rounds: %s)%n",
          cases.get(i).name(), 100 * median(ratios.get(i)), percents(ratios.get(i)));
    }
    for (int i = 1; i < cases.size(); i++) {
      System.out.printf("%-20s in the server (job created to finished): best %.3f s, median of the rounds' ratios:"
          + " %3.0f %% (rounds: %s)%n", cases.get(i).name(), bestServer[i], 100 * median(serverRatios.get(i)),
          percents(serverRatios.get(i)));
    }
    System.out.printf("load average at the end  %s%n", Files.readString(Path.of("/proc/loadavg")).trim());
  }

  /** The middle value (the upper one of an even count, as the summaries always took it). */
  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }

  /** Ratios as whole percents, in round order. */
  private static String percents(List<Double> ratios) {
    return ratios.stream().map(x -> String.format("%.0f %%", 100 * x))
        .collect(java.util.stream.Collectors.joining(", "));
  }

  /** The job's finished_at - created_at, in seconds (what the server logs as "completed after"). */
  private static double serverSeconds(Connection c, String job) throws Exception {
    try (var ps = c.prepareStatement("select extract(epoch from finished_at - created_at) from export_job where id = ?::uuid")) {
      ps.setString(1, job);
      try (ResultSet r = ps.executeQuery()) {
        r.next();
        return r.getDouble(1);
      }
    }
  }

  private static void group(HttpClient http, String base, String id, List<String> members) throws Exception {
    StringBuilder json = new StringBuilder("{\"resourceType\":\"Group\",\"id\":\"" + id
        + "\",\"type\":\"person\",\"actual\":true,\"member\":[");
    for (int i = 0; i < members.size(); i++) {
      json.append(i == 0 ? "" : ",").append("{\"entity\":{\"reference\":\"Patient/").append(members.get(i)).append("\"}}");
    }
    json.append("]}");
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/Group/" + id))
        .header("Content-Type", "application/fhir+json").PUT(HttpRequest.BodyPublishers.ofString(json.toString()))
        .build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 201 && r.statusCode() != 200) {
      throw new IllegalStateException("PUT Group/" + id + ": " + r.statusCode() + " " + r.body());
    }
  }

  private static List<String> strings(Connection c, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
      while (r.next()) {
        out.add(r.getString(1));
      }
    }
    return out;
  }
}

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * organizeOutputBy=Patient against the plain Patient-level export of the same data, in the same
 * run (bench/organize.sh). Rounds alternate plain and organized, each timed from kick-off to
 * manifest with the CPU seconds the server JVM and PostgreSQL spent on it; after its clock
 * stops each export is downloaded and checked: per-file counts as in the manifest, every
 * resource exactly once, and for the organized one the same resources as the plain one, each
 * block starting with its header, continued files repeating it.
 *
 * <p>Args: base URL, server JVM pid, postmaster pid, rounds, _type list ("" for every type).
 */
public class OrganizeBench {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  public static void main(String[] args) throws Exception {
    String base = args[0];
    long serverPid = Long.parseLong(args[1]);
    long postmaster = Long.parseLong(args[2]);
    int rounds = Integer.parseInt(args[3]);
    String types = args.length > 4 && !args[4].isEmpty() ? "&_type=" + args[4] : "";
    Map<String, List<Double>> seconds = new HashMap<>();
    Set<String> plainKeys = null;
    for (int round = 1; round <= rounds; round++) {
      for (boolean organized : new boolean[] {false, true}) {
        // a finished job is never de-duplicated: each round is a new export
        String query = "?_outputFormat=ndjson" + types + (organized ? "&organizeOutputBy=Patient" : "");
        double cpu0 = cpu(serverPid);
        double pg0 = postgresCpu(postmaster);
        long t = System.nanoTime();
        JsonNode manifest = export(base + "/Patient/$export" + query);
        double took = (System.nanoTime() - t) / 1e9;
        double cpu = cpu(serverPid) - cpu0;
        double pg = postgresCpu(postmaster) - pg0;
        long d = System.nanoTime();
        Checked c = organized ? checkOrganized(manifest) : checkPlain(manifest);
        double download = (System.nanoTime() - d) / 1e9;
        if (organized) {
          if (plainKeys != null && !plainKeys.equals(c.keys())) {
            throw new IllegalStateException("round " + round + ": the organized export holds other resources than the"
                + " plain one (" + c.keys().size() + " against " + plainKeys.size() + ")");
          }
        } else {
          if (c.keys().isEmpty()) {
            throw new IllegalStateException("the plain export is empty: nothing was loaded");
          }
          plainKeys = c.keys();
        }
        String name = organized ? "organized" : "plain";
        seconds.computeIfAbsent(name, k -> new ArrayList<>()).add(took);
        System.out.printf("round %d %-9s export %6.2f s (server CPU %.1f s, PostgreSQL CPU %.1f s), download+check"
            + " %.2f s, %,d resources in %d files%s, each once%n", round, name, took, cpu, pg, download,
            c.keys().size(), c.files(), organized ? ", " + c.blocks() + " blocks, " + c.continued()
            + " continued in another file" : "");
      }
    }
    double plain = seconds.get("plain").stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    double organized = seconds.get("organized").stream().mapToDouble(Double::doubleValue).min().orElseThrow();
    int n = plainKeys.size();
    System.out.printf("plain Patient-level export      %6.2f s  %,.0f resources/s (best round)%n", plain, n / plain);
    System.out.printf("organizeOutputBy=Patient        %6.2f s  %,.0f resources/s (best round)%n", organized,
        n / organized);
    System.out.printf("organized / plain               %.2f x the time%n", organized / plain);
    System.out.printf("server peak RSS (VmHWM)         %,d MB%n", peakRssMb(serverPid));
  }

  record Checked(Set<String> keys, int files, int blocks, int continued) {}

  static JsonNode export(String url) throws Exception {
    HttpResponse<String> kick = HTTP.send(HttpRequest.newBuilder(URI.create(url))
        .header("Accept", "application/fhir+json").header("Prefer", "respond-async").build(),
        HttpResponse.BodyHandlers.ofString());
    if (kick.statusCode() != 202) {
      throw new IllegalStateException("kick-off: " + kick.statusCode() + " " + kick.body());
    }
    String status = kick.headers().firstValue("Content-Location").orElseThrow();
    HttpResponse<String> r;
    while ((r = HTTP.send(HttpRequest.newBuilder(URI.create(status)).build(), HttpResponse.BodyHandlers.ofString()))
        .statusCode() == 202) {
      Thread.sleep(20);
    }
    if (r.statusCode() != 200) {
      throw new IllegalStateException("export: " + r.statusCode() + " " + r.body());
    }
    return JSON.readTree(r.body());
  }

  /** Streams a file's lines to {@code line}; returns their number. */
  static long lines(String url, LineSink line) throws Exception {
    HttpResponse<InputStream> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("download " + url + ": " + r.statusCode());
    }
    long n = 0;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String l;
      while ((l = in.readLine()) != null) {
        if (!l.isEmpty()) {
          line.accept(l, n == 0);
          n++;
        }
      }
    }
    return n;
  }

  interface LineSink {
    void accept(String line, boolean first) throws Exception;
  }

  static Checked checkPlain(JsonNode manifest) throws Exception {
    Set<String> keys = new HashSet<>();
    int files = 0;
    for (JsonNode f : manifest.get("output")) {
      files++;
      long n = lines(f.get("url").asText(), (l, first) -> once(keys, key(JSON.readTree(l))));
      if (n != f.get("count").asLong()) {
        throw new IllegalStateException(f + " holds " + n + " lines");
      }
    }
    return new Checked(keys, files, 0, 0);
  }

  static Checked checkOrganized(JsonNode manifest) throws Exception {
    if (!"Patient".equals(manifest.path("outputOrganizedBy").asText())) {
      throw new IllegalStateException("no outputOrganizedBy: " + manifest);
    }
    Set<String> keys = new HashSet<>();
    Set<String> patients = new HashSet<>();
    Set<String> continuations = new HashSet<>();
    for (JsonNode f : manifest.get("output")) {
      if (f.has("continuesInFile")) {
        continuations.add(f.get("continuesInFile").asText());
      }
    }
    int files = 0;
    int blocks = 0;
    for (JsonNode f : manifest.get("output")) {
      files++;
      String url = f.get("url").asText();
      boolean continuing = continuations.contains(url);
      String[] current = {null};
      int[] newBlocks = {0};
      long n = lines(url, (l, first) -> {
        JsonNode r = JSON.readTree(l);
        if (r.get("resourceType").asText().equals("Parameters")) {
          String patient = r.get("parameter").get(0).get("valueReference").get("reference").asText();
          if (!(first && continuing)) {
            once(patients, patient);
            newBlocks[0]++;
          }
          current[0] = patient;
        } else {
          if (first) {
            throw new IllegalStateException(url + " does not start with a header");
          }
          once(keys, key(r));
        }
      });
      if (n != f.get("count").asLong()) {
        throw new IllegalStateException(f + " holds " + n + " lines");
      }
      blocks += newBlocks[0];
    }
    return new Checked(keys, files, blocks, continuations.size());
  }

  static void once(Set<String> seen, String key) {
    if (!seen.add(key)) {
      throw new IllegalStateException("written twice: " + key);
    }
  }

  static String key(JsonNode r) {
    return r.get("resourceType").asText() + "/" + r.get("id").asText();
  }

  /** User and system CPU seconds of one process. */
  static double cpu(long pid) throws Exception {
    String[] f = stat(pid);
    return f == null ? 0 : (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
  }

  /** The postmaster's and its backends' CPU seconds (the backends of ended connections are not counted). */
  static double postgresCpu(long postmaster) throws Exception {
    double sum = cpu(postmaster);
    try (var procs = Files.list(Path.of("/proc"))) {
      for (Path p : procs.toList()) {
        String name = p.getFileName().toString();
        if (name.chars().allMatch(Character::isDigit)) {
          String[] f = stat(Long.parseLong(name));
          if (f != null && Long.parseLong(f[1]) == postmaster) {
            sum += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
          }
        }
      }
    }
    return sum;
  }

  /** The fields of /proc/pid/stat after the command name (field 3 is [0]); null when gone. */
  static String[] stat(long pid) {
    try {
      String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
      return s.substring(s.lastIndexOf(')') + 2).split(" ");
    } catch (Exception e) {
      return null; // the process ended meanwhile
    }
  }

  static long peakRssMb(long pid) throws Exception {
    for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (l.startsWith("VmHWM:")) {
        return Long.parseLong(l.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    return -1;
  }
}

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.sluice.auth.Caller;
import dev.sluice.auth.Scopes;
import dev.sluice.auth.TokenVerifier;
import dev.sluice.auth.VerifiedTokenCache;
import dev.sluice.client.Credentials;
import dev.sluice.client.SmartTokenSource;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * The cost of authorization: the same data served by {@code --auth none} and {@code --auth smart}
 * in turn (none, smart, none, smart: each mode twice, so that a change in the machine's load
 * shows), each time the same searches (median round trip) and a system export with its
 * download (resources/s). Under smart every request carries a bearer token that the server
 * verifies (a signature check once per token, then its cache of verified tokens).
 */
public class AuthBench {
  static final ObjectMapper JSON = new ObjectMapper();
  static final List<String> SEARCHES = List.of(
      "Patient?gender=female&_count=10",
      "Observation?code=http://loinc.org%7C8302-2&_count=10",
      "Condition?_count=10",
      "Encounter?_sort=-date&_count=10");

  public static void main(String[] args) throws Exception {
    String java = args[0];
    String jar = args[1];
    Path data = Path.of(args[2]);
    Path work = Path.of(args[3]);
    int repeats = Integer.parseInt(args[4]);
    Path dir = work.resolve("auth-server");
    Files.createDirectories(work);

    try (Server s = Server.start(java, jar, dir, work, "none")) {
      run(List.of(java, "-jar", jar, "load", "--server", s.base(), data.toString()), work.resolve("auth-load.log"));
    }
    RSAKey key = new RSAKeyGenerator(2048).keyIDFromThumbprint(true).generate(); // as clients add names it
    Path publicPem = work.resolve("auth-bench-public.pem");
    Files.writeString(publicPem, pem("PUBLIC KEY", key.toRSAPublicKey().getEncoded()));
    run(List.of(java, "-jar", jar, "clients", "add", "--data-dir", dir.toString(), "--id", "bench",
        "--public-key", publicPem.toString(), "--scope", "system/*.rs"), work.resolve("auth-clients.log"));

    System.out.printf("search: median of %d round trips per query and mode; export: system $export and download%n",
        repeats);
    System.out.printf("%-6s %-5s %10s %10s %10s %10s %10s %12s%n", "mode", "round", "Patient", "Obs code",
        "Condition", "Enc sort", "median", "export res/s");
    List<List<Double>> medians = List.of(new ArrayList<>(), new ArrayList<>());
    List<List<Double>> exports = List.of(new ArrayList<>(), new ArrayList<>());
    for (int round = 0; round < 4; round++) {
      String mode = round % 2 == 0 ? "none" : "smart";
      try (Server s = Server.start(java, jar, dir, work, mode);
          HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
        Credentials credentials = mode.equals("none") ? Credentials.none()
            : new SmartTokenSource(new SmartTokenSource.Settings(URI.create(s.base()), "bench", key, "system/*.rs"),
                http, Clock.systemUTC());
        List<Double> perQuery = new ArrayList<>();
        List<Double> all = new ArrayList<>();
        for (String q : SEARCHES) {
          List<Double> times = new ArrayList<>();
          get(http, s.base() + "/" + q, credentials); // warm-up: plan cache, token verified once
          for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            get(http, s.base() + "/" + q, credentials);
            times.add((System.nanoTime() - t0) / 1e6);
          }
          perQuery.add(median(times));
          all.addAll(times);
        }
        double exportRate = export(http, s.base(), credentials);
        medians.get(round % 2).add(median(all));
        exports.get(round % 2).add(exportRate);
        System.out.printf("%-6s %-5d %9.2fms %9.2fms %9.2fms %9.2fms %9.2fms %12.0f   (load average %s)%n", mode,
            round / 2 + 1, perQuery.get(0), perQuery.get(1), perQuery.get(2), perQuery.get(3), median(all),
            exportRate, Files.readString(Path.of("/proc/loadavg")).substring(0, 14));
      }
    }
    double none = median(medians.get(0));
    double smart = median(medians.get(1));
    System.out.printf("median search: none %.2f ms, smart %.2f ms: smart costs %+.2f ms (%+.1f %%)%n", none, smart,
        smart - none, 100 * (smart - none) / none);
    verificationCost(none);
    double exNone = median(exports.get(0));
    double exSmart = median(exports.get(1));
    System.out.printf("export: none %.0f, smart %.0f resources/s (%+.1f %%)%n", exNone, exSmart,
        100 * (exSmart - exNone) / exNone);
  }

  /**
   * In this JVM, apart from the machine's noise: a full check of an RS256 token (parse and
   * signature, what a verifier does on a cache miss) and a hit of VerifiedTokenCache (what every
   * later request with the same token costs), against the median search.
   */
  static void verificationCost(double medianSearchMs) throws Exception {
    RSAKey key = new RSAKeyGenerator(2048).keyID("k").generate();
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID("k").build(),
        new JWTClaimsSet.Builder().subject("bench").expirationTime(new Date(System.currentTimeMillis() + 3_600_000))
            .claim("scope", "system/*.rs").build());
    jwt.sign(new RSASSASigner(key));
    String token = jwt.serialize();
    RSASSAVerifier rsa = new RSASSAVerifier(key.toRSAPublicKey());
    TokenVerifier full = t -> {
      try {
        SignedJWT parsed = SignedJWT.parse(t);
        if (!parsed.verify(rsa)) {
          throw new IllegalStateException("bad signature");
        }
        return Caller.of(parsed.getJWTClaimsSet().getSubject(),
            Scopes.parse(parsed.getJWTClaimsSet().getStringClaim("scope")));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    VerifiedTokenCache cache = new VerifiedTokenCache(full, Clock.systemUTC(), 10_000);
    int n = 2_000;
    double fullUs = perCallMicros(() -> full.verify(token), n);
    double hitUs = perCallMicros(() -> cache.verify(token), n * 50);
    System.out.printf("token check in-process: full RS256 check %.1f us (%.3f %% of the median search), cached"
        + " %.2f us (%.4f %%)%n", fullUs, 100 * fullUs / 1000 / medianSearchMs, hitUs,
        100 * hitUs / 1000 / medianSearchMs);
  }

  static double perCallMicros(Runnable call, int n) {
    for (int i = 0; i < n; i++) {
      call.run(); // warm-up
    }
    List<Double> rounds = new ArrayList<>();
    for (int r = 0; r < 5; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < n; i++) {
        call.run();
      }
      rounds.add((System.nanoTime() - t0) / 1e3 / n);
    }
    return median(rounds);
  }

  static String get(HttpClient http, String url, Credentials credentials) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).header("Accept", "application/fhir+json");
    credentials.authorization().ifPresent(v -> b.header("Authorization", v));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  /** A system export of every type, polled until complete, every file downloaded: resources per second. */
  static double export(HttpClient http, String base, Credentials credentials) throws Exception {
    long t0 = System.nanoTime();
    HttpRequest.Builder kick = HttpRequest.newBuilder(URI.create(base + "/$export"))
        .header("Accept", "application/fhir+json").header("Prefer", "respond-async");
    credentials.authorization().ifPresent(v -> kick.header("Authorization", v));
    HttpResponse<String> k = http.send(kick.build(), HttpResponse.BodyHandlers.ofString());
    String status = k.headers().firstValue("Content-Location")
        .orElseThrow(() -> new IllegalStateException("kick-off answered " + k.statusCode() + ": " + k.body()));
    JsonNode manifest;
    while (true) {
      HttpRequest.Builder poll = HttpRequest.newBuilder(URI.create(status));
      credentials.authorization().ifPresent(v -> poll.header("Authorization", v));
      HttpResponse<String> p = http.send(poll.build(), HttpResponse.BodyHandlers.ofString());
      if (p.statusCode() == 200) {
        manifest = JSON.readTree(p.body());
        break;
      }
      if (p.statusCode() != 202) {
        throw new IllegalStateException("status answered " + p.statusCode() + ": " + p.body());
      }
      Thread.sleep(200);
    }
    long resources = 0;
    for (JsonNode f : manifest.path("output")) {
      HttpRequest.Builder dl = HttpRequest.newBuilder(URI.create(f.path("url").asText()));
      if (manifest.path("requiresAccessToken").asBoolean()) {
        credentials.authorization().ifPresent(v -> dl.header("Authorization", v));
      }
      try (InputStream in = http.send(dl.build(), HttpResponse.BodyHandlers.ofInputStream()).body()) {
        byte[] buf = new byte[1 << 16];
        int n;
        while ((n = in.read(buf)) > 0) {
          for (int i = 0; i < n; i++) {
            if (buf[i] == '\n') {
              resources++;
            }
          }
        }
      }
    }
    HttpRequest.Builder del = HttpRequest.newBuilder(URI.create(status)).DELETE();
    credentials.authorization().ifPresent(v -> del.header("Authorization", v));
    http.send(del.build(), HttpResponse.BodyHandlers.discarding());
    return resources / ((System.nanoTime() - t0) / 1e9);
  }

  /** The middle value, or the mean of the two middle ones for an even count (two rounds per mode). */
  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  static void run(List<String> command, Path log) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed:\n" + Files.readString(log));
    }
  }

  /** {@code sluice serve} on the data directory in its own JVM. */
  record Server(Process process, int port) implements AutoCloseable {
    static Server start(String java, String jar, Path dir, Path work, String auth) throws Exception {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      Path log = work.resolve("auth-server-" + auth + ".log");
      Process p = new ProcessBuilder(java, "-Xmx1g", "-jar", jar, "serve", "--port", Integer.toString(port),
          "--data-dir", dir.toString(), "--auth", auth).redirectErrorStream(true).redirectOutput(log.toFile()).start();
      while (!Files.readString(log).contains("Sluice FHIR server ready")) {
        if (!p.isAlive()) {
          throw new IllegalStateException("server did not start:\n" + Files.readString(log));
        }
        Thread.sleep(200);
      }
      return new Server(p, port);
    }

    String base() {
      return "http://127.0.0.1:" + port + "/fhir";
    }

    @Override
    public void close() throws Exception {
      process.destroy();
      process.waitFor();
    }
  }
}

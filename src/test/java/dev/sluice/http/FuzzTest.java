package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.RawHttp;
import dev.sluice.testing.RequestFuzzer;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.Test;

/**
 * Seeded fuzzing over raw sockets: malformed JSON and XML, odd ids and encodings, bad
 * headers, huge and deep bodies, bad search and export parameters, broken framing. No answer
 * may be a 5xx (but 505, HTTP Version Not Supported, for a request line of another HTTP version)
 * and no connection may end without an answer; the server is healthy at the end.
 * {@code -Dsluice.fuzz.seed=N} replays a run, {@code -Dsluice.fuzz.requests=N} sets its size:
 * 1,000 in the suite, 10,000 in {@code bench/fuzz.sh} (about two minutes on this machine).
 */
class FuzzTest {
  private static final long SEED = Long.getLong("sluice.fuzz.seed", 20261204L);
  private static final int REQUESTS = Integer.getInteger("sluice.fuzz.requests", 1_000);
  private static final int CLIENTS = 4;
  /** Bounds the run on a slow or busy machine: what is not sent by then fails the test. */
  private static final Duration LIMIT = Duration.ofMinutes(Integer.getInteger("sluice.fuzz.minutes", 10));
  private static final int REPORTED = 10;

  @Test
  void no_malformed_request_gets_a_5xx_or_a_dropped_connection_and_the_server_stays_healthy() throws Exception {
    // the shared server (fresh when bench/fuzz.sh runs this class alone): the requests' ids and the
    // _since of their exports keep them apart from other tests' data
    TestServer server = TestServer.shared();
    RequestFuzzer fuzzer = new RequestFuzzer(SEED, Instant.now().minusSeconds(1));
    System.out.println("FuzzTest: seed " + SEED + ", " + REQUESTS + " requests (-Dsluice.fuzz.seed=" + SEED
        + " replays it)");
    int port = server.app().port();
    AtomicInteger next = new AtomicInteger();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    long deadline = System.nanoTime() + LIMIT.toNanos();
    long start = System.nanoTime();
    ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
    for (int c = 0; c < CLIENTS; c++) {
      clients.submit(() -> {
        for (int i = next.getAndIncrement(); i < REQUESTS && System.nanoTime() < deadline;
            i = next.getAndIncrement()) {
          RequestFuzzer.Request request = fuzzer.request(i);
          try {
            RawHttp.Response response = RawHttp.exchange(port, request.bytes());
            statuses.computeIfAbsent(response.status(), s -> new LongAdder()).increment();
            // 505 is HTTP's answer to a version it does not speak (HTTP/0.9, HTTP/9.9), not a server failure
            if (response.status() >= 500 && response.status() != 505) {
              failures.add(report(fuzzer, request, response.status() + ": " + cut(response.text(), 600)));
            }
          } catch (IOException | RuntimeException e) {
            failures.add(report(fuzzer, request, "no answer: " + e));
          }
        }
        return null;
      });
    }
    clients.shutdown();
    assertThat(clients.awaitTermination(LIMIT.toSeconds() + 120, TimeUnit.SECONDS)).isTrue();
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.println("FuzzTest: seed " + SEED + ", " + Math.min(next.get(), REQUESTS) + " requests in " + millis
        + " ms, answers by status " + new TreeMap<>(statuses));
    // one example of each kind of failure (its status and the start of its answer), with how often it came
    Map<String, List<String>> kinds = new TreeMap<>();
    for (String f : failures) {
      String kind = f.substring(f.indexOf("->"), Math.min(f.length(), f.indexOf("->") + 160)).split("\n")[0];
      kinds.computeIfAbsent(kind, k -> new ArrayList<>()).add(f);
    }
    kinds.values().stream().limit(REPORTED).forEach(k -> System.out.println(k.size() + " x " + k.getFirst()));
    System.out.println("FuzzTest: " + failures.size() + " failures of " + kinds.size() + " kinds");

    assertThat(next.get()).as("requests sent before the time limit of " + LIMIT).isGreaterThanOrEqualTo(REQUESTS);
    assertThat(failures).as("seed " + SEED + ": " + failures.size() + " requests answered 5xx or not at all;"
        + " see the kinds printed above").isEmpty();
    for (String health : new String[] {"/health", "/health/ready"}) {
      var r = server.get(health);
      assertThat(r.statusCode()).as(health + ": " + r.body()).isEqualTo(200);
      assertThat(r.body()).contains("\"status\":\"UP\"");
    }
    String after = "after-fuzz-" + SEED;
    var written = server.put("Patient/" + after, "{\"resourceType\":\"Patient\",\"id\":\"" + after + "\"}");
    assertThat(written.statusCode()).as(written.body()).isIn(200, 201);
    assertThat(server.get("Patient/" + after).statusCode()).isEqualTo(200);
  }

  private static String report(RequestFuzzer fuzzer, RequestFuzzer.Request request, String outcome) {
    return "seed " + fuzzer.seed() + " request #" + request.index() + " -> " + outcome + "\n" + request.printable(600);
  }

  private static String cut(String s, int max) {
    return s.length() > max ? s.substring(0, max) + "..." : s;
  }

}

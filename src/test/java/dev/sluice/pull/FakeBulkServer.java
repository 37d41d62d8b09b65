package dev.sluice.pull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A small Bulk Data server that misbehaves the ways other vendors' servers do, scripted per
 * test: kick-off and status answers taken from queues, files served with Range, a file whose
 * first answer drops the connection halfway or holds it there, a redirect to another origin.
 * Every request is recorded with the headers that matter.
 */
final class FakeBulkServer implements AutoCloseable {
  /** One request as the server saw it. */
  record Seen(String method, String path, String range, String authorization, String acceptEncoding) {}

  /** A scripted answer to the kick-off or a status request. */
  record Answer(int status, Map<String, String> headers, String body) {
    static Answer of(int status, String... headers) {
      Map<String, String> map = new java.util.LinkedHashMap<>();
      for (int i = 0; i + 1 < headers.length; i += 2) {
        map.put(headers[i], headers[i + 1]);
      }
      return new Answer(status, map, "");
    }
  }

  /** How a file's first full (not ranged) request is answered. */
  enum FirstAnswer { WHOLE, DROP_HALFWAY, HOLD_HALFWAY }

  final Deque<Answer> kickOffs = new ConcurrentLinkedDeque<>();
  final Deque<Answer> statuses = new ConcurrentLinkedDeque<>();
  final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
  private final Map<String, byte[]> files = new ConcurrentHashMap<>();
  private final Map<String, FirstAnswer> firstAnswers = new ConcurrentHashMap<>();
  private final Map<String, String> redirects = new ConcurrentHashMap<>();
  /** Released by the test to let a held answer go on (it then fails: the client is gone). */
  final CountDownLatch release = new CountDownLatch(1);
  /** Counted down when a held answer has sent its first half. */
  final CountDownLatch halfSent = new CountDownLatch(1);
  private final HttpServer server;
  /** Access tokens the token endpoint has issued: tok-1, tok-2, ... */
  final java.util.concurrent.atomic.AtomicInteger tokens = new java.util.concurrent.atomic.AtomicInteger();

  FakeBulkServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/", this::handle);
    server.start();
  }

  /** {@code http://127.0.0.1:port}: the server's origin. */
  String origin() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The same server under another origin (another host name), as a blob store would be. */
  String otherOrigin() {
    return "http://localhost:" + server.getAddress().getPort();
  }

  String base() {
    return origin() + "/fhir";
  }

  void file(String path, byte[] content, FirstAnswer first) {
    files.put(path, content);
    firstAnswers.put(path, first);
  }

  void redirect(String from, String to) {
    redirects.put(from, to);
  }

  List<Seen> seen(String path) {
    List<Seen> list = new ArrayList<>();
    seen.stream().filter(s -> s.path().equals(path)).forEach(list::add);
    return list;
  }

  /** A manifest listing files by path on this server, each with its type and count. */
  String manifest(boolean requiresAccessToken, List<String[]> output, List<String[]> error) {
    StringBuilder json = new StringBuilder("{\"transactionTime\":\"2026-12-04T18:00:00Z\",\"request\":\"")
        .append(base()).append("/$export\",\"requiresAccessToken\":").append(requiresAccessToken).append(",\"output\":[");
    append(json, output);
    json.append("],\"error\":[");
    append(json, error);
    return json.append("]}").toString();
  }

  private void append(StringBuilder json, List<String[]> entries) {
    for (int i = 0; i < entries.size(); i++) {
      String[] e = entries.get(i);
      json.append(i > 0 ? "," : "").append("{\"type\":\"").append(e[0]).append("\",\"url\":\"").append(e[1]).append('"');
      if (e.length > 2) {
        json.append(",\"count\":").append(e[2]);
      }
      json.append('}');
    }
  }

  private void handle(HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    var h = ex.getRequestHeaders();
    seen.add(new Seen(ex.getRequestMethod(), path, h.getFirst("Range"), h.getFirst("Authorization"),
        h.getFirst("Accept-Encoding")));
    try (ex) {
      if (path.equals("/fhir/.well-known/smart-configuration")) {
        answer(ex, new Answer(200, Map.of("Content-Type", "application/json"),
            "{\"token_endpoint\":\"" + origin() + "/token\"}"));
      } else if (path.equals("/token")) {
        answer(ex, new Answer(200, Map.of("Content-Type", "application/json"),
            "{\"access_token\":\"tok-" + tokens.incrementAndGet() + "\",\"token_type\":\"bearer\",\"expires_in\":300}"));
      } else if (path.endsWith("$export")) {
        answer(ex, next(kickOffs));
      } else if (path.startsWith("/fhir/status")) {
        answer(ex, ex.getRequestMethod().equals("DELETE") ? Answer.of(202) : next(statuses));
      } else if (redirects.containsKey(path)) {
        ex.getResponseHeaders().set("Location", redirects.get(path));
        ex.sendResponseHeaders(302, -1);
      } else if (files.containsKey(path)) {
        serveFile(ex, path);
      } else {
        ex.sendResponseHeaders(404, -1);
      }
    }
  }

  /** The last answer of a queue repeats. */
  private static Answer next(Deque<Answer> answers) {
    return answers.size() > 1 ? answers.pollFirst() : answers.peekFirst();
  }

  private static void answer(HttpExchange ex, Answer a) throws IOException {
    a.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
    byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
    ex.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      ex.getResponseBody().write(body);
    }
  }

  private void serveFile(HttpExchange ex, String path) throws IOException {
    byte[] content = files.get(path);
    String range = ex.getRequestHeaders().getFirst("Range");
    ex.getResponseHeaders().set("Content-Type", "application/fhir+ndjson");
    if (range != null) {
      long from = Long.parseLong(range.replaceAll("bytes=(\\d+)-", "$1"));
      ex.getResponseHeaders().set("Content-Range", "bytes " + from + "-" + (content.length - 1) + "/" + content.length);
      ex.sendResponseHeaders(206, content.length - from);
      ex.getResponseBody().write(content, (int) from, (int) (content.length - from));
      return;
    }
    FirstAnswer first = firstAnswers.put(path, FirstAnswer.WHOLE);
    ex.sendResponseHeaders(200, content.length);
    OutputStream body = ex.getResponseBody();
    if (first == FirstAnswer.WHOLE) {
      body.write(content);
      return;
    }
    body.write(content, 0, content.length / 2);
    body.flush();
    if (first == FirstAnswer.HOLD_HALFWAY) {
      halfSent.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // the connection drops with half the promised bytes sent
    throw new IOException("dropped on purpose");
  }

  @Override
  public void close() {
    release.countDown();
    server.stop(0);
  }
}

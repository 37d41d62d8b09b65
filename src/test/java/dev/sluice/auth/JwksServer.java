package dev.sluice.auth;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** A real HTTP server that publishes clients' JWK Sets, as a client's jwks_uri does. */
final class JwksServer implements AutoCloseable {
  private final HttpServer server;
  private final Map<String, String> sets = new ConcurrentHashMap<>();

  JwksServer() {
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    server.createContext("/", exchange -> {
      String set = sets.get(exchange.getRequestURI().getPath());
      byte[] body = (set == null ? "{}" : set).getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(set == null ? 404 : 200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
  }

  /** Publishes the client's public keys and returns their URL. */
  String publish(TestClient client) {
    String path = "/" + client.id() + "/jwks.json";
    sets.put(path, client.publicJwks());
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}

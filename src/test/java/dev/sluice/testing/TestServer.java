package dev.sluice.testing;

import dev.sluice.cli.Application;
import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A real Sluice server on a random port over a real embedded PostgreSQL, driven over HTTP.
 * {@link #shared()} is one server for the whole test run (tests that use it create their own
 * ids and never assume an empty database); {@link #startFresh()} gives a test class its own.
 */
public final class TestServer implements AutoCloseable {
  private static TestServer shared;

  private final Application app;
  private final Path dataDir;
  private final boolean ownsDataDir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  private TestServer(Application app, Path dataDir, boolean ownsDataDir) {
    this.app = app;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
  }

  public static synchronized TestServer shared() {
    if (shared == null) {
      shared = startFresh();
      // closed in order at the test JVM's exit, as serve is, then its directory deleted
      TestServer server = shared;
      server.app.closeOnExit(() -> deleteTree(server.dataDir));
    }
    return shared;
  }

  public static TestServer startFresh() {
    try {
      Path dir = Files.createTempDirectory("sluice-test");
      return new TestServer(Application.start(config(dir)), dir, true);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts a server on an existing data directory (for restart and crash tests); the caller deletes it. */
  public static TestServer start(Path dataDir) {
    return new TestServer(Application.start(config(dataDir)), dataDir, false);
  }

  /**
   * Starts a server with its own configuration (made from the data directory), on a fresh
   * directory that it deletes when closed.
   */
  public static TestServer start(Path dataDir, java.util.function.Function<Path, Config> config) {
    return new TestServer(Application.start(config.apply(dataDir)), dataDir, true);
  }

  public static Config config(Path dataDir) {
    return new Config("127.0.0.1", 0, dataDir, null, null, null, 8, null, 8 * 1024 * 1024, ExportConfig.defaults()).validate();
  }

  public Path dataDir() {
    return dataDir;
  }

  public Application app() {
    return app;
  }

  public String base() {
    return "http://127.0.0.1:" + app.port() + "/fhir";
  }

  public String root() {
    return "http://127.0.0.1:" + app.port();
  }

  public HttpClient http() {
    return http;
  }

  public HttpResponse<String> get(String path, String... headers) {
    return send("GET", path, null, headers);
  }

  public HttpResponse<String> delete(String path, String... headers) {
    return send("DELETE", path, null, headers);
  }

  public HttpResponse<String> post(String path, String body, String... headers) {
    return send("POST", path, body, withJsonType(headers));
  }

  public HttpResponse<String> put(String path, String body, String... headers) {
    return send("PUT", path, body, withJsonType(headers));
  }

  /**
   * @param path relative to the FHIR base ("Patient/1"), or absolute ("http://..."), or from
   *     the server root when it starts with "/" ("/health")
   * @param headers name, value, name, value, ...
   */
  public HttpResponse<String> send(String method, String path, String body, String... headers) {
    String url = path.startsWith("http") ? path : path.startsWith("/") ? root() + path
        : base() + (path.isEmpty() ? "" : "/" + path);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(120));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String[] withJsonType(String[] headers) {
    for (int i = 0; i < headers.length; i += 2) {
      if (headers[i].equalsIgnoreCase("Content-Type")) {
        return headers;
      }
    }
    String[] h = new String[headers.length + 2];
    System.arraycopy(headers, 0, h, 0, headers.length);
    h[headers.length] = "Content-Type";
    h[headers.length + 1] = "application/fhir+json";
    return h;
  }

  /** Stops the server, and deletes its data directory when {@link #startFresh()} made it. */
  @Override
  public void close() {
    app.close();
    if (ownsDataDir) {
      deleteTree(dataDir);
    }
  }

  /** Deletes a directory tree, best effort: a leftover temp file must not fail a test. */
  public static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort: the OS cleans temp directories eventually
    }
  }
}

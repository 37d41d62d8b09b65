package dev.sluice.export;

import dev.sluice.testing.ChildServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real S3-compatible server for the test class: Adobe's S3Mock (Maven Central
 * {@code com.adobe.testing:s3mock}, its runnable jar, which the build copies to
 * {@code target/s3mock/s3mock.jar}) in a child JVM, on a free port, with the bucket
 * {@link #BUCKET}. A test may {@link #stop()} it (an outage) and {@link #start()} it again on
 * the same port and directory, so the objects written before the outage are still there.
 */
final class S3Mock implements BeforeAllCallback, AfterAllCallback {
  static final String BUCKET = "sluice-test";

  private static Process process;
  private static int port;
  private static Path root;

  static String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    // S3Mock and the SDK's default chain read the same environment: the test JVM's credentials are S3Mock's to ignore
    System.setProperty("aws.accessKeyId", "sluice-test");
    System.setProperty("aws.secretAccessKey", "sluice-test");
    System.setProperty("aws.region", "us-east-1");
    port = ChildServer.freePort();
    root = Files.createTempDirectory("s3mock");
    start();
  }

  /** Starts S3Mock (again) on the same port and directory; returns once it answers. */
  static synchronized void start() throws Exception {
    if (process != null && process.isAlive()) {
      return;
    }
    Path jar = Path.of(System.getProperty("sluice.s3mockJar", "target/s3mock/s3mock.jar"));
    if (!Files.isRegularFile(jar)) {
      throw new IllegalStateException(jar + " is missing: the build copies it (mvn process-test-resources)");
    }
    String java = ProcessHandle.current().info().command().orElse("java");
    Path log = root.resolve("s3mock.log");
    process = new ProcessBuilder(java, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-jar", jar.toString(),
        "--com.adobe.testing.s3mock.httpPort=" + port, "--server.port=" + ChildServer.freePort(),
        "--server.address=127.0.0.1",
        "--com.adobe.testing.s3mock.store.root=" + root.resolve("data"),
        "--com.adobe.testing.s3mock.store.retainFilesOnExit=true",
        "--com.adobe.testing.s3mock.store.initialBuckets=" + BUCKET,
        "--com.adobe.testing.s3mock.store.validKmsKeys=arn:aws:kms:us-east-1:123456789012:key/sluice-test",
        "--spring.main.banner-mode=off")
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (true) {
      try {
        // any answer from the S3 API (even 403) means it is up
        http.send(HttpRequest.newBuilder(URI.create(endpoint() + "/" + BUCKET)).method("HEAD",
            HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        return;
      } catch (IOException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("S3Mock did not start: " + Files.readString(log), e);
        }
        Thread.sleep(200);
      }
    }
  }

  /** Stops S3Mock: every request to the store is refused until {@link #start()}. */
  static synchronized void stop() throws Exception {
    if (process != null) {
      process.destroy();
      if (!process.waitFor(20, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
      process = null;
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    stop();
  }
}

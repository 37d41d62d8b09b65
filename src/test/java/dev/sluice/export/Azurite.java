package dev.sluice.export;

import dev.sluice.testing.ChildServer;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Azurite (the Azure Storage emulator, npm package {@code azurite}) for the test
 * class: installed with the machine's npm into the git-ignored {@code .tools/azurite} on
 * first use, started on a free port before the class and stopped after it. A test may
 * {@link #stop()} it (an outage) and {@link #start()} it again on the same port and data
 * directory, so the blobs written before the outage are still there.
 */
final class Azurite implements BeforeAllCallback, AfterAllCallback {
  static final String VERSION = "3.35.0";
  private static final String ACCOUNT = "devstoreaccount1";
  // Azurite's fixed, public development key
  private static final String KEY =
      "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

  private static Process process;
  private static int port;
  private static Path bin;
  private static Path data;
  private static List<String> options = List.of();
  private final List<String> startOptions;

  /** The emulator as most tests use it: plain HTTP, shared-key and SAS authorization. */
  Azurite() {
    this(List.of());
  }

  private Azurite(List<String> startOptions) {
    this.startOptions = startOptions;
  }

  /**
   * Azurite over HTTPS with the certificate and key of a PKCS#12 file, accepting Microsoft
   * Entra ID tokens ({@code --oauth basic}: it checks a token's issuer, audience and lifetime,
   * not its signature) and issuing user delegation keys.
   */
  static Azurite withOAuth(Path pkcs12, String password) {
    return new Azurite(List.of("--cert", pkcs12.toString(), "--pwd", password, "--oauth", "basic"));
  }

  static String connectionString() {
    return "DefaultEndpointsProtocol=http;AccountName=" + ACCOUNT + ";AccountKey=" + KEY
        + ";BlobEndpoint=http://127.0.0.1:" + port + "/" + ACCOUNT + ";";
  }

  static int port() {
    return port;
  }

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    // surefire runs in the project directory
    Path home = Path.of(System.getProperty("user.dir")).resolve(".tools/azurite");
    Path bin = home.resolve("node_modules/.bin/azurite-blob");
    if (!Files.isExecutable(bin)) {
      Files.createDirectories(home);
      run(List.of("npm", "install", "--prefix", home.toString(), "azurite@" + VERSION, "--no-audit", "--no-fund",
          "--loglevel=error"), home);
    }
    Azurite.bin = bin;
    options = startOptions;
    port = ChildServer.freePort();
    data = Files.createTempDirectory("azurite");
    start();
  }

  /** Starts Azurite (again) on the same port and data directory; returns once it accepts connections. */
  static synchronized void start() throws Exception {
    if (process != null && process.isAlive()) {
      return;
    }
    List<String> command = new ArrayList<>(List.of(bin.toString(), "--blobHost", "127.0.0.1", "--blobPort",
        Integer.toString(port), "--location", data.toString(), "--silent", "--skipApiVersionCheck", "--loose"));
    command.addAll(options);
    process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(data.resolve("azurite.log").toFile()))
        .start();
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException e) {
        if (!process.isAlive() || System.nanoTime() > deadline) {
          throw new IllegalStateException("Azurite did not start: " + Files.readString(data.resolve("azurite.log")), e);
        }
        Thread.sleep(100);
      }
    }
  }

  /** Stops Azurite: every request to the store is refused until {@link #start()}. */
  static synchronized void stop() throws Exception {
    if (process != null) {
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
      process = null;
    }
  }

  private static void run(List<String> command, Path dir) throws Exception {
    // not inheritIO: the test JVM's stdout talks to surefire
    Path log = dir.resolve("npm-install.log");
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(log.toFile()).start();
    if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
      throw new IllegalStateException("'" + String.join(" ", command) + "' failed: " + Files.readString(log));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    stop();
  }
}

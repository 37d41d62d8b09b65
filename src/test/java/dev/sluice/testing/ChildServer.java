package dev.sluice.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** A Sluice server in its own JVM ({@code sluice serve}), for tests that kill it with -9 or read its log. */
public final class ChildServer implements AutoCloseable {
  private static final Pattern PG_PORT = Pattern.compile("Embedded PostgreSQL started on port (\\d+)");

  private final Process process;
  private final Path log;
  private final Path dataDir;
  private final int port;

  private ChildServer(Process process, Path log, Path dataDir, int port) {
    this.process = process;
    this.log = log;
    this.dataDir = dataDir;
    this.port = port;
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static ChildServer start(Path dataDir, int port, String... flags) throws Exception {
    return start(dataDir, port, List.of(), Map.of(), flags);
  }

  /** A server whose JVM also gets {@code jvmOptions} (-D...) and whose environment also holds {@code env}. */
  public static ChildServer start(Path dataDir, int port, List<String> jvmOptions, Map<String, String> env,
      String... flags) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m"));
    cmd.addAll(jvmOptions);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        "dev.sluice.cli.Main", "serve", "--port", Integer.toString(port), "--data-dir", dataDir.toString()));
    cmd.addAll(List.of(flags));
    Path log = Files.createTempFile("sluice-child", ".log");
    ProcessBuilder builder = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(env);
    Process p = builder.start();
    ChildServer child = new ChildServer(p, log, dataDir, port);
    long deadline = System.nanoTime() + 300_000_000_000L; // a busy shared machine starts slowly
    while (!Files.readString(log).contains("Sluice FHIR server ready")) {
      if (!p.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("child server did not start:\n" + Files.readString(log));
      }
      Thread.sleep(100);
    }
    return child;
  }

  /** Everything the server printed (stdout and stderr). */
  public Path log() {
    return log;
  }

  public String base() {
    return "http://127.0.0.1:" + port + "/fhir";
  }

  /** The child's embedded PostgreSQL, with the password from its data directory. */
  public DataSource dataSource() throws IOException {
    Matcher m = PG_PORT.matcher(Files.readString(log));
    if (!m.find()) {
      throw new IllegalStateException("no embedded PostgreSQL port in the log");
    }
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setUrl("jdbc:postgresql://127.0.0.1:" + m.group(1) + "/postgres");
    ds.setUser("postgres");
    ds.setPassword(Files.readString(dataDir.resolve("postgres.password")).trim());
    return ds;
  }

  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}

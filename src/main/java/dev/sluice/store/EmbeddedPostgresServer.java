package dev.sluice.store;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL that Sluice starts itself when no JDBC URL is configured. Its files live
 * under the data directory, so data survives restarts; after a {@code kill -9} of the JVM the
 * orphaned postmaster is stopped before a new one starts on the same files.
 */
final class EmbeddedPostgresServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresServer.class);

  private final EmbeddedPostgres postgres;

  private EmbeddedPostgresServer(EmbeddedPostgres postgres) {
    this.postgres = postgres;
  }

  static EmbeddedPostgresServer start(Path dataDir) {
    Path pgData = dataDir.resolve("postgres");
    try {
      Files.createDirectories(pgData);
      stopOrphanedPostmaster(pgData);
      EmbeddedPostgres pg =
          EmbeddedPostgres.builder()
              .setDataDirectory(pgData)
              .setCleanDataDirectory(false)
              .setPGStartupWait(Duration.ofSeconds(120))
              // The library starts PostgreSQL with -F (fsync off) and synchronous_commit=off, tuned for
              // throwaway test databases; here what the server acknowledged must survive a crash.
              // A -c after -F wins, so both are switched back on.
              .setServerConfig("fsync", "on")
              .setServerConfig("synchronous_commit", "on")
              .setServerConfig("max_connections", "100")
              // Every write inserts into the search index's value B-trees at random places: with
              // 256MB they did not stay in shared buffers at a few hundred thousand resources, and
              // the backends spent their time evicting and re-reading pages. A bulk load writes about
              // 6 kB of WAL per resource; 4GB keeps it from forcing checkpoints (and the full-page
              // images after each). bench/load.sh: PostgreSQL 53 -> 43 CPU seconds for 318,780 resources.
              .setServerConfig("shared_buffers", "1GB")
              .setServerConfig("max_wal_size", "4GB")
              .setServerConfig("checkpoint_timeout", "15min")
              .start();
      log.info("Embedded PostgreSQL started on port {} with data in {}", pg.getPort(), pgData);
      return new EmbeddedPostgresServer(pg);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + pgData, e);
    }
  }

  String jdbcUrl() {
    return "jdbc:postgresql://localhost:" + postgres.getPort() + "/postgres";
  }

  /**
   * A JVM killed with -9 leaves its postmaster running on our data directory (the zonky
   * library stops it only from a shutdown hook), and a new postmaster would refuse to start.
   */
  private static void stopOrphanedPostmaster(Path pgData) throws IOException {
    Path pidFile = pgData.resolve("postmaster.pid");
    if (!Files.exists(pidFile)) {
      return;
    }
    List<String> lines = Files.readAllLines(pidFile);
    long pid;
    try {
      pid = Long.parseLong(lines.getFirst().trim());
    } catch (RuntimeException e) {
      log.warn("Removing unreadable PostgreSQL pid file {}", pidFile);
      Files.deleteIfExists(pidFile);
      return;
    }
    Optional<ProcessHandle> process = ProcessHandle.of(pid).filter(ProcessHandle::isAlive);
    boolean isPostgres =
        process.flatMap(p -> p.info().command()).map(c -> c.endsWith("postgres")).orElse(false);
    if (!isPostgres) {
      // PostgreSQL checks the pid itself, but a recycled pid held by another process would stop it
      log.warn("Removing stale PostgreSQL pid file {} (process {} is gone)", pidFile, pid);
      Files.deleteIfExists(pidFile);
      return;
    }
    ProcessHandle postmaster = process.get();
    log.warn("Stopping PostgreSQL process {} left running on {} by an earlier server", pid, pgData);
    postmaster.destroy();
    try {
      postmaster.onExit().get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping the orphaned PostgreSQL", e);
    } catch (Exception e) {
      log.warn("PostgreSQL process {} did not stop within 60 s; killing it", pid);
      postmaster.destroyForcibly();
    }
  }

  @Override
  public void close() {
    try {
      postgres.close();
    } catch (IOException e) {
      log.warn("Embedded PostgreSQL did not stop cleanly", e);
    }
  }
}

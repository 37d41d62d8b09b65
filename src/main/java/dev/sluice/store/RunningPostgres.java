package dev.sluice.store;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The embedded PostgreSQL a running server started on a data directory, found from what it
 * leaves there: the port in PostgreSQL's own {@code postgres/postmaster.pid} (fourth line) and,
 * when the server set one, the password in {@code postgres.password}. A command-line tool
 * connects to it rather than starting a second PostgreSQL on the same files (which the server
 * holds, and which starting would take from it).
 */
final class RunningPostgres {
  private static final String PASSWORD_FILE = "postgres.password";

  /** How to reach it. */
  record Address(String jdbcUrl, String password) {}

  private RunningPostgres() {}

  static Optional<Address> of(Path dataDir) {
    Path pidFile = dataDir.resolve("postgres").resolve("postmaster.pid");
    try {
      if (!Files.isRegularFile(pidFile)) {
        return Optional.empty();
      }
      List<String> lines = Files.readAllLines(pidFile, StandardCharsets.US_ASCII);
      if (lines.size() < 4) {
        return Optional.empty();
      }
      long pid = Long.parseLong(lines.get(0).trim());
      int port = Integer.parseInt(lines.get(3).trim());
      boolean alive = ProcessHandle.of(pid).filter(ProcessHandle::isAlive)
          .flatMap(p -> p.info().command()).map(c -> c.endsWith("postgres")).orElse(false);
      if (!alive) {
        return Optional.empty();
      }
      Path passwordFile = dataDir.resolve(PASSWORD_FILE);
      String password = Files.isReadable(passwordFile)
          ? Files.readString(passwordFile, StandardCharsets.US_ASCII).trim() : null;
      return Optional.of(new Address("jdbc:postgresql://127.0.0.1:" + port + "/postgres", password));
    } catch (IOException | RuntimeException e) {
      // a pid file being written or replaced right now: as if no server ran
      return Optional.empty();
    }
  }
}

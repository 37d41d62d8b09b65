package dev.sluice.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.List;

/** The embedded cluster's pg_hba.conf: whether it trusts anyone, and the password-only one. */
final class PgHba {
  private static final String PASSWORD_ONLY = """
      # Written by Sluice: every connection needs the password (SCRAM); PostgreSQL listens on 127.0.0.1 only.
      host all all 127.0.0.1/32 scram-sha-256
      host all all ::1/128 scram-sha-256
      host replication all 127.0.0.1/32 scram-sha-256
      """;

  private PgHba() {}

  /** True when a rule lets a connection in without a password (data directories made by earlier Sluice versions trust every local connection). */
  static boolean trusts(Path pgData) throws IOException {
    List<String> lines = Files.readAllLines(pgData.resolve("pg_hba.conf"));
    return lines.stream()
        .map(l -> l.replaceFirst("#.*", "").trim())
        .filter(l -> !l.isEmpty())
        .anyMatch(l -> Arrays.asList(l.split("\\s+")).contains("trust"));
  }

  /** Replaces pg_hba.conf in one step: a crash leaves either the old file or the new one. */
  static void writePasswordOnly(Path pgData) throws IOException {
    Path tmp = pgData.resolve("pg_hba.conf.sluice-tmp");
    Files.writeString(tmp, PASSWORD_ONLY);
    Files.move(tmp, pgData.resolve("pg_hba.conf"), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

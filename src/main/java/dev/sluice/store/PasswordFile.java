package dev.sluice.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/** The embedded PostgreSQL's superuser password, made once and kept in a file only its owner reads. */
final class PasswordFile {
  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  private PasswordFile() {}

  static String readOrCreate(Path file) throws IOException {
    if (!Files.exists(file)) {
      byte[] random = new byte[24];
      new SecureRandom().nextBytes(random);
      // URL-safe Base64: no quote or backslash, so it can stand in SQL and in pg_hba as it is
      String password = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        out.write(ByteBuffer.wrap(password.getBytes(StandardCharsets.US_ASCII)));
        out.force(true);
      }
      Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
    // the umask may have taken bits away at creation, and an older file may be wider
    Files.setPosixFilePermissions(file, OWNER_ONLY);
    return Files.readString(file, StandardCharsets.US_ASCII).trim();
  }
}

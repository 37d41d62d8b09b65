package dev.sluice.fhir;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** Lowercase hex SHA-256, the one way Sluice fingerprints bytes (ETags, request keys, clients, configurations, long search index values). */
public final class Sha256 {
  private Sha256() {}

  public static String hex(byte[] bytes) {
    return HexFormat.of().formatHex(digest(bytes));
  }

  public static String hex(String text) {
    return hex(text.getBytes(StandardCharsets.UTF_8));
  }

  /** The 32 bytes of the SHA-256 of {@code bytes[from..bytes.length)}. */
  public static byte[] digest(byte[] bytes, int from) {
    MessageDigest digest = sha256();
    digest.update(bytes, from, bytes.length - from);
    return digest.digest();
  }

  /** Of a file's bytes, read as a stream. */
  public static String hex(Path file) throws IOException {
    MessageDigest digest = sha256();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JDK", e);
    }
  }

  private static byte[] digest(byte[] bytes) {
    return digest(bytes, 0);
  }
}

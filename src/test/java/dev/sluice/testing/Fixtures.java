package dev.sluice.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/** Test data: the shared Synthea populations and the files under src/test/resources/fixtures. */
public final class Fixtures {
  private Fixtures() {}

  /** {@code ../shared}, as surefire passes it in {@code sluice.sharedDir}. */
  public static Path sharedDir() {
    return Path.of(System.getProperty("sluice.sharedDir", "../shared")).toAbsolutePath().normalize();
  }

  public static Path small() {
    return sharedDir().resolve("data/small");
  }

  public static Path medium() {
    return sharedDir().resolve("data/medium");
  }

  /** The lines of one NDJSON file of a population ({@code .ndjson} or {@code .ndjson.gz}). */
  public static List<String> ndjson(Path dir, String type) {
    Path plain = dir.resolve(type + ".ndjson");
    Path gz = dir.resolve(type + ".ndjson.gz");
    try {
      InputStream in = Files.exists(plain) ? Files.newInputStream(plain) : new GZIPInputStream(Files.newInputStream(gz));
      try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
        return r.lines().filter(l -> !l.isBlank()).toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String resource(String name) {
    try (InputStream in = Fixtures.class.getResourceAsStream("/fixtures/" + name)) {
      if (in == null) {
        throw new IllegalArgumentException("no fixture " + name);
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}

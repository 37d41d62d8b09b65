package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/** The gzip copy of an export file: made once, private like the file, removed with it. */
class GzipCopiesTest {

  @Test
  void the_copy_is_made_once_holds_the_file_gzipped_and_goes_with_the_job() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-gzip");
    try {
      LocalOutputStore store = new LocalOutputStore(dataDir.resolve("exports"));
      UUID job = UUID.randomUUID();
      String text = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n".repeat(5_000);
      try (OutputStream out = store.create("bulk-export", job, "Patient-1.ndjson")) {
        out.write(text.getBytes(StandardCharsets.UTF_8));
      }
      Path copy = store.gzipped("bulk-export", job, "Patient-1.ndjson");
      assertThat(copy.getParent()).isEqualTo(store.path("bulk-export", job, "Patient-1.ndjson").getParent());
      assertThat(Files.size(copy)).isLessThan(text.length() / 10);
      try (var in = new GZIPInputStream(Files.newInputStream(copy))) {
        assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(text);
      }
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(copy))).isEqualTo("rw-------");
      var made = Files.getLastModifiedTime(copy);
      var key = Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey();
      Thread.sleep(20);
      assertThat(store.gzipped("bulk-export", job, "Patient-1.ndjson")).isEqualTo(copy);
      assertThat(Files.getLastModifiedTime(copy)).as("not made again").isEqualTo(made);
      assertThat(Files.readAttributes(copy, java.nio.file.attribute.BasicFileAttributes.class).fileKey()).isEqualTo(key);
      try (var files = Files.list(copy.getParent())) {
        assertThat(files.map(p -> p.getFileName().toString()).sorted().toList())
            .as("no temporary file left").containsExactly("Patient-1.ndjson", copy.getFileName().toString());
      }
      store.delete("bulk-export", job, "Patient-1.ndjson");
      assertThat(copy).as("removed with its file").doesNotExist();
      try (OutputStream out = store.create("bulk-export", job, "Patient-2.ndjson")) {
        out.write(text.getBytes(StandardCharsets.UTF_8));
      }
      Path second = store.gzipped("bulk-export", job, "Patient-2.ndjson");
      store.deleteJob("bulk-export", job);
      assertThat(second).doesNotExist();
      assertThat(second.getParent()).doesNotExist();
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }
}

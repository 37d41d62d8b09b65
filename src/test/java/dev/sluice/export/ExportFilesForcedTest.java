package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.DirtyPages;
import dev.sluice.testing.TestServer;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * A completed export's files are on the disk, not only in the kernel's page cache: the manifest
 * says they are there, so they must survive a crash of the machine as the job's rows in
 * PostgreSQL do. So must a gzip copy before it is served. Checked by the pages the kernel still
 * holds dirty right after the fact ({@link DirtyPages}), against a file written without a force.
 */
class ExportFilesForcedTest {
  private final ExportClient client = ExportFixture.client();

  /** A file written plainly has dirty pages for a while: else this machine cannot tell a forced file. */
  static void controlIsDirty(Path dir) throws Exception {
    Path control = dir.resolve("control-" + UUID.randomUUID() + ".ndjson");
    Files.writeString(control, "{\"resourceType\":\"Patient\"}\n".repeat(2_000));
    try {
      assertThat(DirtyPages.of(List.of(control))).as("a file not forced, just written").allMatch(n -> n > 0);
    } finally {
      Files.delete(control);
    }
  }

  private static Path onDisk(TestServer server, String url) throws Exception {
    String[] path = URI.create(url).getPath().split("/");
    String job = path[path.length - 2];
    String name = path[path.length - 1];
    try (var files = Files.walk(server.dataDir().resolve("exports"))) {
      return files.filter(p -> p.getFileName().toString().equals(name) && p.getParent().getFileName().toString().equals(job))
          .findFirst().orElseThrow();
    }
  }

  @Test
  void every_file_of_a_completed_export_and_every_gzip_copy_served_is_on_the_disk() throws Exception {
    JsonNode manifest = client.manifest("$export?_type=Patient,Observation");
    List<Path> files = new ArrayList<>();
    for (JsonNode f : manifest.get("output")) {
      files.add(onDisk(client.server(), f.get("url").asText()));
    }
    assertThat(files).hasSizeGreaterThan(2);
    assertThat(DirtyPages.of(files)).as("pages of %s not on the disk", files).allMatch(n -> n == 0);
    controlIsDirty(files.getFirst().getParent());

    String url = manifest.get("output").get(0).get("url").asText();
    HttpResponse<byte[]> gz = client.http().send(HttpRequest.newBuilder(URI.create(url))
        .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
    assertThat(gz.headers().firstValue("Content-Encoding")).hasValue("gzip");
    Path copy = GzipCopies.copyOf(onDisk(client.server(), url));
    assertThat(DirtyPages.of(List.of(copy))).as("the gzip copy made for that download").containsExactly(0L);
  }
}

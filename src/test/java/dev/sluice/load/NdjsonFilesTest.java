package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The files a load reads from the paths it is given. */
class NdjsonFilesTest {
  @Test
  void a_folder_given_through_a_symbolic_link_is_walked() throws Exception {
    Path dir = Files.createTempDirectory("sluice-ndjson-files");
    try {
      Path real = Files.createDirectories(dir.resolve("real"));
      Files.writeString(real.resolve("Patient.ndjson"), "{}\n");
      Files.writeString(real.resolve("notes.txt"), "not loaded\n");
      Path link = Files.createSymbolicLink(dir.resolve("link"), real);

      assertThat(NdjsonFiles.expand(List.of(link))).containsExactly(link.resolve("Patient.ndjson"));
    } finally {
      TestServer.deleteTree(dir);
    }
  }
}

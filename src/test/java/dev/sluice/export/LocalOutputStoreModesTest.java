package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Export files hold patient data: no one but the server's user reads them, whatever the umask. */
class LocalOutputStoreModesTest {

  @Test
  void export_files_are_0600_and_their_folders_0700() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-modes");
    try {
      LocalOutputStore store = new LocalOutputStore(dataDir.resolve("exports"));
      UUID job = UUID.randomUUID();
      try (OutputStream out = store.create("bulk-export", job, "Patient-1.ndjson")) {
        out.write("{}\n".getBytes(StandardCharsets.UTF_8));
      }
      try (OutputStream out = store.create("bulk-export", job, "Observation-1.ndjson")) {
        out.write("{}\n".getBytes(StandardCharsets.UTF_8));
      }
      Path file = store.path("bulk-export", job, "Patient-1.ndjson");
      assertThat(Files.readString(file)).isEqualTo("{}\n");
      assertThat(mode(file)).isEqualTo("rw-------");
      assertThat(mode(store.path("bulk-export", job, "Observation-1.ndjson"))).isEqualTo("rw-------");
      assertThat(mode(file.getParent())).as("the job's folder").isEqualTo("rwx------");
      assertThat(mode(file.getParent().getParent())).as("the container").isEqualTo("rwx------");
      assertThat(mode(dataDir.resolve("exports"))).as("the export root").isEqualTo("rwx------");
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }
}

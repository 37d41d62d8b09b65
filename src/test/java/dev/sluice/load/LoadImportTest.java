package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.cli.Main;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code sluice load --import}: the files go through the server's {@code $import}, not batches. */
class LoadImportTest {
  @Test
  void load_with_import_copies_the_files_into_the_import_folder_and_imports_them() throws Exception {
    try (TestServer server = TestServer.startFresh()) {
      Path data = Files.createTempDirectory("sluice-load-import");
      List<String> patients = Fixtures.ndjson(Fixtures.small(), "Patient");
      List<String> conditions = Fixtures.ndjson(Fixtures.small(), "Condition");
      Files.writeString(data.resolve("Patient.ndjson"), String.join("\n", patients) + "\n");
      Files.writeString(data.resolve("Condition.ndjson"), String.join("\n", conditions) + "\n{broken\n");
      StringWriter out = new StringWriter();
      StringWriter err = new StringWriter();

      int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
          .execute("load", data.toString(), "--server", server.base(), "--import", "--import-dir",
              server.dataDir().resolve("imports").toString());

      assertThat(code).as(err.toString()).isEqualTo(1);
      assertThat(out.toString()).contains("Imported " + (patients.size() + conditions.size()) + " resources from 2 files")
          .contains("; 1 line refused");
      assertThat(err.toString()).contains("Condition.ndjson, line " + (conditions.size() + 1) + ": ");
      String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(patients.get(0)).get("id").asText();
      assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(200);
      // copied, not moved
      assertThat(data.resolve("Patient.ndjson")).exists();
      // --import without the server's folder cannot start
      int refused = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err))
          .execute("load", data.toString(), "--server", server.base(), "--import");
      assertThat(refused).isEqualTo(2);
      TestServer.deleteTree(data);
    }
  }
}

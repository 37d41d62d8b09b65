package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which files {@code sluice load PATH...} reads: symbolic links followed, loops and second ways in not. */
class NdjsonFilesTest {
  @TempDir
  Path dir;

  private Path file(String name) throws IOException {
    Path f = dir.resolve(name);
    Files.createDirectories(f.getParent());
    Files.writeString(f, "{}\n");
    return f;
  }

  @Test
  void a_symlinked_folder_given_as_the_path_is_read() throws IOException {
    Path real = file("real/Patient.ndjson");
    Path link = Files.createSymbolicLink(dir.resolve("linked"), dir.resolve("real"));

    List<Path> files = NdjsonFiles.expand(List.of(link));

    assertThat(files).containsExactly(link.resolve("Patient.ndjson"));
    assertThat(Files.isSameFile(files.getFirst(), real)).isTrue();
  }

  @Test
  void symlinked_folders_and_files_inside_a_folder_are_read() throws IOException {
    Path data = Files.createDirectories(dir.resolve("data"));
    file("elsewhere/obs/Observation.ndjson.gz");
    file("elsewhere/Encounter.ndjson");
    file("data/Patient.ndjson");
    Files.createSymbolicLink(data.resolve("obs"), dir.resolve("elsewhere/obs"));
    Files.createSymbolicLink(data.resolve("Encounter.ndjson"), dir.resolve("elsewhere/Encounter.ndjson"));

    List<Path> files = NdjsonFiles.expand(List.of(data));

    assertThat(files).containsExactly(data.resolve("Encounter.ndjson"), data.resolve("Patient.ndjson"),
        data.resolve("obs/Observation.ndjson.gz"));
  }

  @Test
  void a_link_back_up_the_tree_is_not_walked_round_and_a_file_reached_twice_is_read_once() throws IOException {
    Path data = Files.createDirectories(dir.resolve("data"));
    file("data/sub/Patient.ndjson");
    Files.createSymbolicLink(data.resolve("sub/loop"), data);
    Files.createSymbolicLink(data.resolve("again"), data.resolve("sub"));
    Files.createSymbolicLink(data.resolve("dangling.ndjson"), dir.resolve("nowhere.ndjson"));

    List<Path> files = NdjsonFiles.expand(List.of(data));

    assertThat(files).hasSize(1);
    assertThat(Files.isSameFile(files.getFirst(), data.resolve("sub/Patient.ndjson"))).isTrue();
  }

  @Test
  void a_file_given_twice_or_as_well_as_its_folder_is_read_once() throws IOException {
    Path f = file("data/Patient.ndjson");

    assertThat(NdjsonFiles.expand(List.of(dir.resolve("data"), f, f))).containsExactly(f);
  }

  @Test
  void an_export_folders_deleted_and_error_files_are_left_out_and_said() throws IOException {
    Path out = Files.createDirectories(dir.resolve("out"));
    Files.writeString(out.resolve("manifest.json"), "{}");
    file("out/Patient-1.ndjson");
    file("out/deleted/Bundle-1.ndjson");
    file("out/error/OperationOutcome-1.ndjson");
    List<String> notices = new java.util.ArrayList<>();

    List<Path> files = NdjsonFiles.expand(List.of(out), notices::add);

    assertThat(files).containsExactly(out.resolve("Patient-1.ndjson"));
    assertThat(notices).containsExactlyInAnyOrder(
        "left out " + out.resolve("deleted") + " (1 file): an export's deletions, which a load does not apply"
            + " (sluice export --into applies them)",
        "left out " + out.resolve("error") + " (1 file): an export's OperationOutcomes, not resources to load");
  }

  @Test
  void folders_named_deleted_or_error_elsewhere_are_read() throws IOException {
    file("data/deleted/Patient.ndjson");
    file("data/error/Observation.ndjson");

    assertThat(NdjsonFiles.expand(List.of(dir.resolve("data")))).containsExactly(
        dir.resolve("data/deleted/Patient.ndjson"), dir.resolve("data/error/Observation.ndjson"));
  }
}

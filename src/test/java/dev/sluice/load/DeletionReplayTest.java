package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What {@link DeletionReplay} takes from a line of a {@code deleted} file: DELETE Type/id entries only. */
class DeletionReplayTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void the_delete_entries_of_a_transaction_bundle_are_read() {
    assertThat(DeletionReplay.deletions(bytes("{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}},"
        + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Observation/o-2.x\"}}]}")))
        .containsExactly("Patient/p1", "Observation/o-2.x");
  }

  @Test
  void an_entry_that_would_write_or_reach_elsewhere_refuses_the_line() {
    assertThatThrownBy(() -> DeletionReplay.deletions(bytes("{\"resourceType\":\"Bundle\",\"entry\":["
        + "{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/p1\"},\"resource\":{\"resourceType\":\"Patient\"}}]}")))
        .hasMessageContaining("not DELETE Type/id: PUT Patient/p1");
    assertThatThrownBy(() -> DeletionReplay.deletions(bytes("{\"resourceType\":\"Bundle\",\"entry\":["
        + "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient?name=x\"}}]}")))
        .hasMessageContaining("Patient?name=x");
    assertThatThrownBy(() -> DeletionReplay.deletions(bytes("{\"resourceType\":\"Patient\"}")))
        .hasMessage("not a Bundle");
    assertThatThrownBy(() -> DeletionReplay.deletions(bytes("{oops"))).hasMessage("not JSON");
  }
}

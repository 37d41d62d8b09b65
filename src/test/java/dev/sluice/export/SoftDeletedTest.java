package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SoftDeletedTest {
  private static final String MARKER =
      "{\"url\":\"http://azurehealthcareapis.com/data-extensions/deleted-state\",\"valueString\":\"soft-deleted\"}";
  private static final Instant AT = Instant.parse("2026-12-05T03:00:00.123Z");

  private static String line(String previous) throws Exception {
    return new String(SoftDeleted.line("Basic", "x", 3, AT,
        previous == null ? null : previous.getBytes(StandardCharsets.UTF_8)), StandardCharsets.UTF_8);
  }

  @Test
  void a_deleted_resource_is_its_last_version_under_the_deletions_meta_with_the_marker() throws Exception {
    assertThat(line("{\"resourceType\":\"Basic\",\"id\":\"x\",\"meta\":{\"versionId\":\"2\","
        + "\"lastUpdated\":\"2026-12-05T02:00:00.000+00:00\",\"tag\":[{\"code\":\"t\"}]},\"code\":{\"text\":\"c\"}}"))
        .isEqualTo("{\"resourceType\":\"Basic\",\"id\":\"x\",\"meta\":{\"versionId\":\"3\","
            + "\"lastUpdated\":\"2026-12-05T03:00:00.123+00:00\",\"tag\":[{\"code\":\"t\"}],\"extension\":[" + MARKER
            + "]},\"code\":{\"text\":\"c\"}}");
  }

  @Test
  void the_marker_is_added_to_extensions_already_in_meta() throws Exception {
    assertThat(line("{\"resourceType\":\"Basic\",\"id\":\"x\",\"meta\":{\"versionId\":\"2\","
        + "\"extension\":[{\"url\":\"http://example.org/e\",\"valueString\":\"v\"}]}}"))
        .contains("\"extension\":[{\"url\":\"http://example.org/e\",\"valueString\":\"v\"}," + MARKER + "]");
  }

  @Test
  void a_deletion_without_an_earlier_version_is_type_id_and_meta() throws Exception {
    assertThat(line(null)).isEqualTo("{\"resourceType\":\"Basic\",\"id\":\"x\",\"meta\":{\"versionId\":\"3\","
        + "\"lastUpdated\":\"2026-12-05T03:00:00.123+00:00\",\"extension\":[" + MARKER + "]}}");
  }
}

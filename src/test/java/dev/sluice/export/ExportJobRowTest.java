package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.ExportJobRow;
import dev.sluice.store.ExportJobTable;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A job's row as the store reads it back. */
class ExportJobRowTest {
  @Test
  void a_completed_job_has_an_expiry_and_no_error_status() throws Exception {
    ExportClient client = ExportFixture.client();
    String status = client.start("Patient/$export?_type=Patient");
    assertThat(client.await(status).statusCode()).isEqualTo(200);
    UUID id = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));

    ExportJobRow row = new ExportJobTable(ExportFixture.app().dataSource()).find(id).orElseThrow();

    assertThat(row.expiresAt()).isNotNull();
    assertThat(row.errorStatus()).isNull();
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * {@code allowPartialManifests}: while a job runs, its status shows a page of the files done so
 * far, which never changes; the rest comes through {@code next} pages; the last page completes.
 */
class ExportPartialManifestTest {
  private static final String[] LENIENT = {"Accept", "application/fhir+json", "Prefer",
      "respond-async, handling=lenient"};

  private final ExportClient client = ExportFixture.client();
  private final Map<String, List<String>> loaded = ExportFixture.loaded();

  @Test
  void a_running_job_shows_the_files_done_so_far_in_pages_that_never_change() throws Exception {
    DataSource db = ExportFixture.app().dataSource();
    String status;
    JsonNode first;
    try (Connection lock = db.getConnection(); Connection watch = db.getConnection()) {
      // the Patient part's scan waits on a lock, holding one of the 2 workers; the other runs the
      // notes part (the ignored _foo), which reads no resource and finishes
      try (Connection planning = db.getConnection()) {
        planning.setAutoCommit(false);
        planning.createStatement().execute("select pg_current_xact_id()");
        HttpResponse<String> r = client.kickOff("$export?_type=Patient&allowPartialManifests=true&_foo=1",
            LENIENT);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
        status = r.headers().firstValue("Content-Location").orElseThrow();
        lock.setAutoCommit(false);
        lock.createStatement().execute("lock table resource_version in access exclusive mode");
        planning.rollback();
      }
      ScanBlocker.awaitScans(watch, 1);
      HttpResponse<String> partial = awaitBody(status);
      assertThat(partial.statusCode()).isEqualTo(202);
      assertThat(partial.headers().firstValue("X-Progress")).isPresent();
      first = ExportClient.read(partial.body());
      assertThat(first.get("output")).isEmpty();
      assertThat(first.has("link")).isFalse();
      // its files can be fetched before the job ends
      assertThat(client.lines(first, "error", "OperationOutcome")).singleElement().asString().contains("_foo");
      // polled again, the same page
      HttpResponse<String> again = client.get(status);
      assertThat(again.statusCode()).isEqualTo(202);
      assertThat(ExportClient.read(again.body())).isEqualTo(first);
      lock.rollback();
    }
    // the first page keeps its files and gains a next link; the last page answers 200
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode page = ExportClient.read(done.body());
    for (String kind : List.of("output", "error")) {
      assertThat(page.get(kind)).as(kind).isEqualTo(first.get(kind));
    }
    Set<String> urls = new HashSet<>();
    Map<String, Long> counts = new HashMap<>();
    List<String> pages = new ArrayList<>();
    while (true) {
      for (String kind : List.of("output", "error")) {
        for (JsonNode f : page.get(kind)) {
          assertThat(urls.add(f.get("url").asText())).as("listed twice: " + f).isTrue();
          counts.merge(f.get("type").asText(), f.get("count").asLong(), Long::sum);
        }
      }
      if (!page.has("link")) {
        break;
      }
      String next = page.get("link").get(0).get("url").asText();
      assertThat(page.get("link").get(0).get("relation").asText()).isEqualTo("next");
      pages.add(next);
      HttpResponse<String> r = client.await(next);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      page = ExportClient.read(r.body());
    }
    assertThat(pages).isNotEmpty();
    assertThat(counts).containsEntry("Patient", (long) loaded.get("Patient").size())
        .containsEntry("OperationOutcome", 1L);
    // a page past the last does not exist
    assertThat(client.get(status + "/manifest/" + (pages.size() + 2)).statusCode()).isEqualTo(404);
  }

  @Test
  void without_the_parameter_a_running_job_shows_no_manifest() throws Exception {
    DataSource db = ExportFixture.app().dataSource();
    try (Connection lock = db.getConnection(); Connection watch = db.getConnection()) {
      String status = ScanBlocker.startBlocked(client, db, lock, "$export?_type=Patient");
      ScanBlocker.awaitScans(watch, 1);
      HttpResponse<String> running = client.get(status);
      assertThat(running.statusCode()).isEqualTo(202);
      assertThat(running.body()).isEmpty();
      assertThat(client.get(status + "/manifest/1").statusCode()).isEqualTo(404);
      lock.rollback();
    }
  }

  /** Polls until the status answers with a body (a page, or the end). */
  private HttpResponse<String> awaitBody(String status) {
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (true) {
      HttpResponse<String> r = client.get(status);
      if (!r.body().isEmpty()) {
        return r;
      }
      assertThat(System.nanoTime()).as("no page after 30 s").isLessThan(deadline);
      ExportClient.sleep(50);
    }
  }
}

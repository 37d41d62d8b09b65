package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import dev.sluice.testing.TestServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code _typeFilter} values come from clients and reach the export's COPY as SQL literals
 * ({@code store.CopyLiteral}): quotes, backslashes, question marks and dollar quotes in them
 * select exactly the resources they name, and a NUL is refused at kick-off.
 */
class ExportTypeFilterLiteralTest {
  // its own server: other classes count the shared server's Patients
  private static TestServer server;
  private static ExportClient client;

  @BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> e));
    client = new ExportClient(server);
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String patient(String id, String family, String identifier) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:literal\",\"value\":"
        + ExportClient.JSON.valueToTree(identifier) + "}],\"name\":[{\"family\":" + ExportClient.JSON.valueToTree(family)
        + "}]}";
  }

  private Set<String> exported(String query) {
    JsonNode m = client.manifest("$export?_type=Patient&_typeFilter="
        + URLEncoder.encode("Patient?" + query, StandardCharsets.UTF_8));
    Set<String> ids = new HashSet<>();
    client.lines(m, "output", "Patient").forEach(l -> ids.add(ExportClient.id(l)));
    return ids;
  }

  @Test
  void filter_values_with_quotes_backslashes_question_marks_and_dollar_quotes_select_exactly_their_resources() {
    String run = UUID.randomUUID().toString().substring(0, 8);
    List<String> values = List.of("O'Brien" + run, "Back\\slash" + run, "Who?" + run, "Dollar$$" + run + "$$",
        "It''s" + run, "E'\\'; select 1; --" + run);
    List<String> resources = new ArrayList<>();
    for (int i = 0; i < values.size(); i++) {
      resources.add(patient("lit-" + run + "-" + i, values.get(i), values.get(i)));
    }
    // a decoy that a literal broken at its quote or backslash would match instead
    resources.add(patient("lit-" + run + "-decoy", "O" + run, "O"));
    client.putAll(resources);
    for (int i = 0; i < values.size(); i++) {
      String value = values.get(i);
      // search values escape '\', '|', ',' and '$' with a backslash; '?' and quotes are plain text
      String escaped = value.replace("\\", "\\\\").replace("|", "\\|").replace(",", "\\,").replace("$", "\\$");
      assertThat(exported("family:exact=" + escaped)).as("family %s", value).containsExactly("lit-" + run + "-" + i);
      assertThat(exported("identifier=urn:literal|" + escaped)).as("identifier %s", value)
          .containsExactly("lit-" + run + "-" + i);
    }
  }

  @Test
  void a_filter_value_with_nul_is_refused_at_kickoff() {
    HttpResponse<String> r = client.kickOff("$export?_type=Patient&_typeFilter="
        + URLEncoder.encode("Patient?family=a\0b", StandardCharsets.UTF_8));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("_typeFilter");
  }
}

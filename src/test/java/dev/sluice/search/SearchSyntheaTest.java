package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Searches over the small shared Synthea population, loaded into a server of its own, with
 * every expected count worked out independently from the NDJSON files.
 */
class SearchSyntheaTest {
  private static TestServer server;
  private static SearchClient client;
  private static final Map<String, List<JsonNode>> data = new HashMap<>();

  @BeforeAll
  static void load() {
    server = TestServer.startFresh();
    client = new SearchClient(server);
    for (String type : List.of("Patient", "Observation", "Encounter", "Condition", "MedicationRequest")) {
      List<String> lines = Fixtures.ndjson(Fixtures.small(), type);
      data.put(type, lines.stream().map(SearchClient::json).toList());
      for (int from = 0; from < lines.size(); from += 500) {
        client.put(lines.subList(from, Math.min(from + 500, lines.size())).toArray(String[]::new));
      }
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static long count(String query) {
    return client.bundle(query + (query.contains("?") ? "&" : "?") + "_summary=count").get("total").asLong();
  }

  private static long expected(String type, Predicate<JsonNode> match) {
    return data.get(type).stream().filter(match).count();
  }

  private static boolean hasCoding(JsonNode concept, String system, String code) {
    for (JsonNode c : concept.path("coding")) {
      if (system.equals(c.path("system").asText()) && code.equals(c.path("code").asText())) {
        return true;
      }
    }
    return false;
  }

  @Test
  void token_search_counts_match_the_files() {
    JsonNode first = data.get("Observation").getFirst().get("code").get("coding").get(0);
    String system = first.get("system").asText();
    String code = first.get("code").asText();
    long want = expected("Observation", o -> hasCoding(o.get("code"), system, code));
    assertThat(want).isPositive();
    assertThat(count("Observation?code=" + system + "|" + code)).isEqualTo(want);
    assertThat(count("Patient?gender=female")).isEqualTo(expected("Patient", p -> p.path("gender").asText().equals("female")));
    assertThat(count("MedicationRequest?status=active"))
        .isEqualTo(expected("MedicationRequest", m -> m.path("status").asText().equals("active")));
  }

  @Test
  void reference_and_compartment_counts_match_the_files() {
    String patient = data.get("Patient").getFirst().get("id").asText();
    long want = expected("Observation", o -> o.path("subject").path("reference").asText().equals("Patient/" + patient));
    assertThat(want).isPositive();
    assertThat(count("Observation?subject=Patient/" + patient)).isEqualTo(want);
    assertThat(count("Observation?patient=" + patient)).isEqualTo(want);
    assertThat(count("Patient/" + patient + "/Observation")).isEqualTo(want);
  }

  @Test
  void date_range_counts_match_the_files() {
    Instant from = Instant.parse("2015-01-01T00:00:00Z");
    Instant to = Instant.parse("2016-01-01T00:00:00Z");
    // Encounter.period: in range when it starts on or after 'from' and ends before 'to' (seconds precision)
    long want = expected("Encounter", e -> {
      Instant start = OffsetDateTime.parse(e.get("period").get("start").asText()).toInstant();
      Instant end = OffsetDateTime.parse(e.get("period").get("end").asText()).toInstant().plusSeconds(1);
      return !start.isBefore(from) && !end.isAfter(to);
    });
    assertThat(want).isPositive();
    assertThat(count("Encounter?date=2015")).isEqualTo(want);
    long overlapping = expected("Encounter", e ->
        OffsetDateTime.parse(e.get("period").get("end").asText()).toInstant().plusSeconds(1).isAfter(from)
            && OffsetDateTime.parse(e.get("period").get("start").asText()).toInstant().isBefore(to));
    assertThat(count("Encounter?date=ge2015&date=lt2016")).isEqualTo(overlapping);
  }

  @Test
  void chained_and_reverse_chained_counts_match_the_files() {
    Set<String> males = new HashSet<>();
    data.get("Patient").stream().filter(p -> p.path("gender").asText().equals("male"))
        .forEach(p -> males.add("Patient/" + p.get("id").asText()));
    assertThat(count("Observation?subject:Patient.gender=male"))
        .isEqualTo(expected("Observation", o -> males.contains(o.path("subject").path("reference").asText())));

    JsonNode coding = data.get("Condition").getFirst().get("code").get("coding").get(0);
    Set<String> withCondition = new HashSet<>();
    data.get("Condition").stream()
        .filter(c -> hasCoding(c.get("code"), coding.get("system").asText(), coding.get("code").asText()))
        .forEach(c -> withCondition.add(c.path("subject").path("reference").asText()));
    assertThat(count("Patient?_has:Condition:patient:code=" + coding.get("system").asText() + "|"
        + coding.get("code").asText())).isEqualTo(withCondition.size());
  }

  @Test
  void paging_through_all_matches_returns_each_exactly_once() {
    List<String> ids = client.ids("Observation?_count=200&_sort=-date");
    assertThat(ids).hasSize(data.get("Observation").size()).doesNotHaveDuplicates();
  }
}

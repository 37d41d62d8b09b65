package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code :text} on tokens: starts-with, case- and accent-insensitive, on coding displays,
 * concept texts and identifier type texts, which the index keeps on the token rows (V6); and
 * the other token searches, which must not see the rows that hold a text only.
 */
class SearchTokenTextTest {
  private static final TestServer server = TestServer.shared();
  private static final SearchClient client = new SearchClient(server);
  private static final String R = "t" + UUID.randomUUID().toString().substring(0, 8);
  private static final String TAG = "_tag=urn:sluice:test|" + R;

  private static String observation(String id, String code, String rest) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + R + "-" + id + "\","
        + "\"meta\":{\"tag\":[{\"system\":\"urn:sluice:test\",\"code\":\"" + R + "\"}]},\"status\":\"final\""
        + (code == null ? "" : ",\"code\":" + code) + rest + "}";
  }

  private static String patient(String id, String identifier) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + R + "-" + id + "\","
        + "\"meta\":{\"tag\":[{\"system\":\"urn:sluice:test\",\"code\":\"" + R + "\"}]},\"identifier\":[" + identifier + "]}";
  }

  @BeforeAll
  static void load() {
    client.put(
        observation("display", "{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"d\",\"display\":\"Heart rate\"}]}", ""),
        observation("text", "{\"text\":\"Headache after exercise\"}",
            ",\"valueQuantity\":{\"value\":3,\"system\":\"http://unitsofmeasure.org\",\"code\":\"1\"}"),
        observation("both", "{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"b\",\"display\":\"Body height\"}],"
            + "\"text\":\"Taille mesurée\"}", ""),
        observation("accents", "{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"a\",\"display\":\"ÉCLAIR Café\"}]}", ""),
        observation("percent", "{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"p\",\"display\":\"50% oxygen_x\"}]}", ""),
        observation("none", null, ""),
        observation("legacy", "{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"l\"}]}", ""),
        patient("license", "{\"type\":{\"text\":\"Driver's license\"},\"system\":\"urn:dl\",\"value\":\"" + R + "-9\"}"),
        patient("typeonly", "{\"type\":{\"text\":\"Passport\"}}"),
        patient("plain", "{\"system\":\"urn:mrn\",\"value\":\"" + R + "-1\"}"));
  }

  /** The matches among this class's data, as short ids, sorted unless the query sorts. */
  private static List<String> find(String typeAndQuery) {
    List<String> ids = new ArrayList<>();
    for (String id : client.ids(typeAndQuery + "&" + TAG)) {
      ids.add(id.substring(R.length() + 1));
    }
    if (!typeAndQuery.contains("_sort")) {
      ids.sort(null);
    }
    return ids;
  }

  @Test
  void text_matches_a_coding_display() {
    assertThat(find("Observation?code:text=heart")).containsExactly("display");
  }

  @Test
  void text_matches_the_text_of_a_concept_without_codings() {
    assertThat(find("Observation?code:text=headache after")).containsExactly("text");
  }

  @Test
  void text_matches_both_the_display_and_a_different_concept_text() {
    assertThat(find("Observation?code:text=body")).containsExactly("both");
    assertThat(find("Observation?code:text=taille")).containsExactly("both");
  }

  @Test
  void text_ignores_case_and_accents_on_both_sides() {
    assertThat(find("Observation?code:text=eclair caf")).containsExactly("accents");
    assertThat(find("Observation?code:text=Éclair")).containsExactly("accents");
    assertThat(find("Observation?code:text=TAILLE MESURÉE")).containsExactly("both");
  }

  @Test
  void text_values_separated_by_commas_are_or_ed() {
    assertThat(find("Observation?code:text=heart,headache")).containsExactly("display", "text");
  }

  @Test
  void percent_and_underscore_in_a_text_value_are_literal() {
    assertThat(find("Observation?code:text=50%25 oxygen_")).containsExactly("percent");
    assertThat(find("Observation?code:text=5%25")).isEmpty();
    assertThat(find("Observation?code:text=50%25 oxygenx")).isEmpty();
  }

  @Test
  void identifier_text_matches_the_identifier_type_text() {
    assertThat(find("Patient?identifier:text=driver")).containsExactly("license");
    assertThat(find("Patient?identifier:text=passport")).containsExactly("typeonly");
  }

  @Test
  void a_concept_with_text_only_has_no_code_for_other_token_searches() {
    assertThat(find("Observation?code:missing=false")).containsExactly("accents", "both", "display", "legacy", "percent");
    assertThat(find("Observation?code:missing=true")).containsExactly("none", "text");
    assertThat(find("Observation?code:not=urn:" + R + "|d")).containsExactly("accents", "both", "legacy", "none", "percent", "text");
    assertThat(find("Observation?code=urn:" + R + "|")).containsExactly("accents", "both", "display", "legacy", "percent");
    assertThat(find("Observation?combo-code:missing=true")).containsExactly("none", "text");
    assertThat(find("Observation?code-value-quantity:missing=true")).contains("text");
    assertThat(find("Patient?identifier:missing=true")).containsExactly("typeonly");
  }

  @Test
  void a_text_only_concept_sorts_with_the_resources_without_a_code() {
    assertThat(find("Observation?code:text=heart,headache&_sort=code")).containsExactly("display", "text");
    assertThat(find("Observation?code:text=heart,headache&_sort=-code")).containsExactly("display", "text");
  }

  @Test
  void text_still_finds_string_rows_written_before_the_display_column() throws Exception {
    SearchParam code = new SearchParameters(new FhirModel()).find("Observation", "code").orElseThrow();
    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("insert into idx_string (res_pk, key, grp, norm, exact)"
            + " select pk, ?, 0, 'legacy display', 'Legacy display' from resource where res_type = 'Observation'"
            + " and res_id = ?")) {
      ps.setInt(1, code.textKey());
      ps.setString(2, R + "-legacy");
      assertThat(ps.executeUpdate()).isEqualTo(1);
    }
    assertThat(find("Observation?code:text=LEGACY")).containsExactly("legacy");
  }
}

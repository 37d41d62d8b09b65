package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.store.SearchSql;
import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The entry point the export uses for {@code _typeFilter}: a query string parsed by
 * {@link SearchParser}, turned into a condition on {@code v.pk} by {@link SearchSql}, and
 * OR-ed into a scan of {@code resource_version}.
 */
class SearchTypeFilterTest {
  private static final TestServer server = TestServer.shared();
  private static final SearchClient client = new SearchClient(server);
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParser parser = new SearchParser(fhir, new SearchParameters(fhir), OwnBases.none());
  private static final SearchSql sql = new SearchSql(Clock.systemUTC());
  private static final String R = "f" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void load() {
    String med = "{\"resourceType\":\"MedicationRequest\",\"id\":\"" + R + "-%s\",\"status\":\"%s\",\"intent\":\"order\","
        + "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"%s\"}]},"
        + "\"subject\":{\"reference\":\"Patient/" + R + "-p\"}}";
    client.put(med.formatted("m1", "active", "a"), med.formatted("m2", "stopped", "a"), med.formatted("m3", "active", "b"));
  }

  /** The ids of current MedicationRequest versions matching any of the filters, the way the export scans. */
  private static List<String> scan(String... filters) throws Exception {
    StringBuilder text = new StringBuilder(
        "select v.res_id from resource_version v where v.res_type = 'MedicationRequest' and v.valid_to is null"
            + " and not v.deleted and v.res_id like ?");
    List<Object> params = new ArrayList<>(List.of(R + "-%"));
    List<String> any = new ArrayList<>();
    for (String f : filters) {
      SearchSql.Fragment fragment = sql.where(parser.parse("MedicationRequest", f), "v.pk");
      any.add("(" + fragment.sql() + ")");
      params.addAll(fragment.params());
    }
    text.append(" and (").append(String.join(" or ", any)).append(") order by v.res_id");
    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(text.toString())) {
      for (int i = 0; i < params.size(); i++) {
        ps.setObject(i + 1, params.get(i));
      }
      List<String> ids = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1).substring(R.length() + 1));
        }
      }
      return ids;
    }
  }

  @Test
  void a_type_filter_query_string_selects_the_matching_versions() throws Exception {
    assertThat(scan("status=active")).containsExactly("m1", "m3");
    assertThat(scan("status=active&code=urn:" + R + "%7Ca")).containsExactly("m1");
    assertThat(scan("code=urn%3A" + R + "%7Cb")).containsExactly("m3");
  }

  @Test
  void several_type_filters_of_one_type_are_or_ed() throws Exception {
    assertThat(scan("status=stopped", "code=urn:" + R + "|b")).containsExactly("m2", "m3");
  }

  @Test
  void chains_work_inside_a_type_filter() throws Exception {
    client.put("{\"resourceType\":\"Patient\",\"id\":\"" + R + "-p\",\"gender\":\"female\"}");
    assertThat(scan("subject:Patient.gender=female&status=stopped")).containsExactly("m2");
  }

  @Test
  void text_works_inside_a_type_filter() throws Exception {
    client.put("{\"resourceType\":\"MedicationRequest\",\"id\":\"" + R + "-m4\",\"status\":\"draft\",\"intent\":\"order\","
        + "\"medicationCodeableConcept\":{\"coding\":[{\"system\":\"urn:" + R + "\",\"code\":\"c\","
        + "\"display\":\"Aspirin 81 MG\"}],\"text\":\"Baby aspirin\"},\"subject\":{\"reference\":\"Patient/" + R + "-p\"}}");
    assertThat(scan("code:text=ASPIRIN")).containsExactly("m4");
    assertThat(scan("code:text=baby")).containsExactly("m4");
    assertThat(scan("code:text=aspirin 82", "status=stopped")).containsExactly("m2");
  }

  @Test
  void a_bad_type_filter_is_a_400_naming_the_parameter() {
    assertThatThrownBy(() -> parser.parse("MedicationRequest", "colour=red"))
        .isInstanceOfSatisfying(FhirException.class, e -> {
          assertThat(e.status()).isEqualTo(400);
          assertThat(e.issues().getFirst().expression()).isEqualTo("colour");
        });
  }
}

package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.store.PastVersionSearch;
import dev.sluice.store.PastVersionSearch.PastVersion;
import dev.sluice.store.SearchSql;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link PastVersionSearch} judges a version by the index rows computed for it, over the same
 * SQL as the index: fed the current versions, it must find exactly what the index finds, for
 * every kind of parameter, modifier and prefix (the export's {@code _typeFilter} relies on the
 * two agreeing for the versions replaced after transactionTime).
 */
class SearchPastVersionTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);
  private static final SearchParser parser = new SearchParser(fhir, parameters, OwnBases.none());
  private static final SearchSql sql = new SearchSql(Clock.systemUTC());
  private static final PastVersionSearch past =
      new PastVersionSearch(fhir, parameters, new ParamExpressions(fhir), OwnBases.none(), sql);
  /** Versions judged per statement here: several batches per type, as an export makes them. */
  private static final int BATCH = 400;
  private static TestServer server;

  @BeforeAll
  static void load() {
    server = TestServer.startFresh();
    SearchClient client = new SearchClient(server);
    for (String type : List.of("Patient", "Observation", "Encounter", "Condition")) {
      List<String> lines = Fixtures.ndjson(Fixtures.small(), type);
      for (int from = 0; from < lines.size(); from += 500) {
        client.put(lines.subList(from, Math.min(from + 500, lines.size())).toArray(String[]::new));
      }
    }
    // kinds the Synthea sample has no values of: number and uri
    client.put(
        "{\"resourceType\":\"RiskAssessment\",\"id\":\"ra1\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/x\"},"
            + "\"prediction\":[{\"probabilityDecimal\":0.3}]}",
        "{\"resourceType\":\"RiskAssessment\",\"id\":\"ra2\",\"status\":\"final\",\"subject\":{\"reference\":\"Patient/x\"},"
            + "\"prediction\":[{\"probabilityDecimal\":0.05}]}",
        "{\"resourceType\":\"Questionnaire\",\"id\":\"q1\",\"status\":\"active\",\"url\":\"http://example.org/q/one\"}",
        "{\"resourceType\":\"Questionnaire\",\"id\":\"q2\",\"status\":\"active\",\"url\":\"http://example.com/q/two\"}");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static Set<Long> byIndex(Connection c, SearchQuery query) throws Exception {
    SearchSql.Fragment f = sql.where(query, "r.pk");
    try (PreparedStatement ps = c.prepareStatement(
        "select r.pk from resource r where r.res_type = ? and not r.deleted and " + f.sql())) {
      ps.setString(1, query.type());
      for (int i = 0; i < f.params().size(); i++) {
        ps.setObject(i + 2, f.params().get(i));
      }
      return pks(ps);
    }
  }

  private static Set<Long> byComputedRows(Connection c, SearchQuery query) throws Exception {
    Set<Long> hits = new HashSet<>();
    List<PastVersion> batch = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("select pk, last_updated, content from resource_version"
        + " where res_type = ? and valid_to is null and not deleted order by pk")) {
      ps.setString(1, query.type());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          batch.add(new PastVersion(rs.getLong(1), rs.getTimestamp(2).toInstant(),
              fhir.parse(rs.getBytes(3), Format.JSON)));
          if (batch.size() == BATCH) {
            hits.addAll(past.matching(c, query.type(), List.of(query), batch));
            batch.clear();
          }
        }
      }
    }
    hits.addAll(past.matching(c, query.type(), List.of(query), batch));
    return hits;
  }

  private static Set<Long> pks(PreparedStatement ps) throws Exception {
    Set<Long> pks = new HashSet<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        pks.add(rs.getLong(1));
      }
    }
    return pks;
  }

  private static String firstUpdate(Connection c, String type) throws Exception {
    try (PreparedStatement ps = c.prepareStatement("select min(last_updated) from resource where res_type = ?")) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return java.net.URLEncoder.encode(rs.getTimestamp(1).toInstant().toString(), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
  }

  private static long count(Connection c, String type) throws Exception {
    try (PreparedStatement ps = c.prepareStatement("select count(*) from resource where res_type = ? and not deleted")) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "Observation?code=http://loinc.org|8302-2",
      "Observation?code=8302-2,29463-7",
      "Observation?code:text=body",
      "Observation?code:not=http://loinc.org|8302-2",
      "Observation?category=vital-signs&status=final",
      "Observation?value-quantity=gt100",
      "Observation?value-quantity=lt70|http://unitsofmeasure.org|kg",
      "Observation?value-quantity=ap80",
      "Observation?date=ge2015&date=lt2018",
      "Observation?date=2016",
      "Observation?date=sa2018-06-01",
      "Observation?component-code-value-quantity=http://loinc.org|8480-6$gt120",
      "Observation?combo-code=http://loinc.org|8480-6",
      "Observation?value-concept:missing=false",
      "Observation?value-quantity:missing=true",
      "Observation?subject:Patient.gender=female",
      "Observation?_lastUpdated=gt{first}",
      "Observation?_tag=https://smarthealthit.org/tags|synthea-5-2019&code=8302-2",
      "Patient?gender=female",
      "Patient?name=ma",
      "Patient?name:contains=ar",
      "Patient?birthdate=lt1970",
      "Patient?address-city:exact=Boston",
      "Patient?_has:Condition:subject:code=http://snomed.info/sct|43878008",
      "Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|x",
      "Encounter?class=AMB",
      "Encounter?date=le2012",
      "Encounter?type:text=encounter for check",
      "Condition?clinical-status=active",
      "Condition?onset-date=ge2010",
      "Condition?code:text=prediabetes",
      "RiskAssessment?probability=gt0.2",
      "Questionnaire?url=http://example.org/q/one",
      "Questionnaire?url:below=http://example.com/"})
  void a_query_on_computed_rows_finds_what_the_index_finds(String search) throws Exception {
    String type = search.substring(0, search.indexOf('?'));
    try (Connection c = server.app().dataSource().getConnection()) {
      // {first}: when the first Observations were loaded (later batches are stamped later)
      search = search.replace("{first}", firstUpdate(c, type));
      SearchQuery query = parser.parse(type, search.substring(search.indexOf('?') + 1));
      Set<Long> expected = byIndex(c, query);
      assertThat(byComputedRows(c, query)).isEqualTo(expected);
      // the queries select some of the resources, not none or all, where the data allows
      if (!search.contains(":of-type")) {
        assertThat(expected).isNotEmpty().hasSizeLessThan((int) count(c, type));
      }
    }
  }
}

package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.store.ExportScan;
import dev.sluice.store.PastVersionSearch;
import dev.sluice.store.SearchSql;
import dev.sluice.store.TypeSizes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * The type sizes shared parts are cut by, sampled from the server's own database: on a table of
 * fewer pages than the sample reads, every page is read, so the means are the table's.
 */
class ExportTypeSizesTest {
  @Test
  void a_small_table_is_sampled_whole_and_each_type_gets_its_mean_stored_size() throws Exception {
    ExportFixture.loaded();
    DataSource db = ExportFixture.app().dataSource();
    FhirModel fhir = new FhirModel();
    SearchSql sql = new SearchSql(Clock.systemUTC());
    ExportScan scan = new ExportScan(db, 500, fhir, sql, new PastVersionSearch(fhir, new SearchParameters(fhir),
        new ParamExpressions(fhir), OwnBases.none(), sql), new ExportScan.ReplacedBatch(500, 16L * 1024 * 1024));

    TypeSizes sizes = scan.typeSizes();

    Map<String, Long> expected = new HashMap<>();
    try (Connection c = db.getConnection(); ResultSet rs = c.createStatement().executeQuery(
        "select res_type, avg(octet_length(content))::bigint from resource_version where not deleted group by res_type")) {
      while (rs.next()) {
        expected.put(rs.getString(1), rs.getLong(2));
      }
    }
    assertThat(expected).containsKeys("Patient", "Observation", "ExplanationOfBenefit");
    assertThat(sizes.meanBytes()).isEqualTo(expected);
    assertThat(sizes.bytes("ExplanationOfBenefit", 1)).isGreaterThan(sizes.bytes("Observation", 1));
  }
}

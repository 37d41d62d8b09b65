package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchParser;
import dev.sluice.store.ExportScan;
import dev.sluice.store.ExportScan.Membership;
import dev.sluice.store.ExportScan.ReplacedBatch;
import dev.sluice.store.PastVersionSearch;
import dev.sluice.store.SearchSql;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The versions replaced after transactionTime are judged in bounded batches: whatever the
 * batch limits (one row, a few rows, one byte, the default), a part's scan yields the same
 * versions, each once, on the server's own database.
 */
class ExportScanBatchTest {
  private final ExportClient client = ExportFixture.client();
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);
  private static final SearchSql sql = new SearchSql(Clock.systemUTC());

  private static String flag(String id, String mark) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:tfb\",\"value\":\"" + mark
        + "\"}],\"status\":\"active\",\"code\":{\"text\":\"batch\"},\"subject\":{\"reference\":\"Patient/tfb-"
        + (id.hashCode() & 1) + "\"}}";
  }

  private Set<String> scan(ReplacedBatch batch, Instant at, long[] pks, Membership membership) throws Exception {
    ExportScan scan = new ExportScan(ExportFixture.app().dataSource(), 500, fhir, sql,
        new PastVersionSearch(fhir, parameters, new ParamExpressions(fhir), OwnBases.none(), sql), batch);
    ExportCompartments compartments = ExportCompartments.anyPatient(fhir, new PatientCompartment(fhir));
    Set<String> ids = new TreeSet<>();
    var spec = new ExportScan.ResourceScan(UUID.randomUUID(), "Flag", pks[0], pks[1], at, null, membership,
        List.of(new SearchParser(fhir, parameters, OwnBases.none()).parse("Flag", "identifier=urn:tfb|in")));
    try (ExportScan.Session session = scan.open()) {
      session.scan(spec, compartments::holds, (b, off, len) -> {
        String id = ExportClient.id(new String(b, off, len, StandardCharsets.UTF_8));
        assertThat(ids.add(id)).as("written twice: " + id).isTrue();
      });
    }
    return ids;
  }

  @Test
  void replaced_versions_judged_in_batches_of_any_size_give_the_same_versions() throws Exception {
    List<String> created = new ArrayList<>();
    Set<String> expected = new TreeSet<>();
    for (int i = 0; i < 60; i++) {
      created.add(flag("tfb-" + i, i % 3 == 0 ? "in" : "out"));
      if (i % 3 == 0) {
        expected.add("tfb-" + i);
      }
    }
    client.putAll(created);
    Instant at = OffsetDateTime.parse(ExportClient.read(client.get("Flag/tfb-59").body()).get("meta")
        .get("lastUpdated").asText()).toInstant();
    // after the point in time every Flag changes its mark, and some are deleted
    List<String> flipped = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      flipped.add(flag("tfb-" + i, i % 3 == 0 ? "out" : "in"));
    }
    client.putAll(flipped);
    for (int i = 0; i < 60; i += 9) {
      client.delete("Flag/tfb-" + i);
    }
    long[] pks = new long[2];
    try (Connection c = ExportFixture.app().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement(
            "select min(pk), max(pk) from resource where res_type = 'Flag' and res_id like 'tfb-%'")) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        pks[0] = rs.getLong(1);
        pks[1] = rs.getLong(2);
      }
    }
    for (Membership membership : List.of(Membership.ALL, Membership.ANY_COMPARTMENT)) {
      for (ReplacedBatch batch : List.of(new ReplacedBatch(1, 1L << 30), new ReplacedBatch(7, 1L << 30),
          new ReplacedBatch(500, 1), new ReplacedBatch(500, 16L << 20))) {
        assertThat(scan(batch, at, pks, membership)).as(membership + " " + batch).isEqualTo(expected);
      }
    }
  }
}

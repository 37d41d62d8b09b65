package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.testing.TestServer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * One flush whose rows fill many {@link CopyText} chunks: every row arrives once, and values with
 * the characters COPY's text format escapes, and characters of two to four UTF-8 bytes, arrive as
 * they were, wherever a chunk ends.
 */
class CopyTextRowsTest {
  private static final FhirModel fhir = new FhirModel();
  private final SearchIndexWriter index = new SearchIndexWriter(fhir, new PatientCompartment(fhir),
      new SearchParameters(fhir), new ParamExpressions(fhir), OwnBases.none());

  // a server of its own: 3,000 resources in the shared one would widen other tests' key ranges
  // (ExportTypeFilterPointInTimeTest cuts Flags into parts by pk and wants its Flags in several)
  @Test
  void a_flush_of_many_chunks_writes_every_row_with_its_exact_text() throws Exception {
    try (TestServer server = TestServer.startFresh()) {
      check(server);
    }
  }

  private void check(TestServer server) throws Exception {
    ResourceStore store = new ResourceStore(server.app().dataSource(), fhir, index);
    String run = UUID.randomUUID().toString();
    List<ResourcePut> puts = new ArrayList<>();
    Map<String, String> familyById = new HashMap<>();
    long expectedStrings = 0;
    // about 200 chars of family per Patient, several rows each: idx_string alone is many chunks
    for (int i = 0; i < 3_000; i++) {
      String id = "copytext-" + i + "-" + run.substring(0, 8);
      String family = "Ünïcödé 日本語 🙂 tab\there back\\slash line\\nend " + "x".repeat(i % 97) + " " + i;
      familyById.put(id, family);
      String json = "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":"
          + jsonString(family) + ",\"given\":[\"Ådné\"]}]}";
      byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
      var resource = fhir.parse(bytes, Format.JSON);
      expectedStrings += index.rows("Patient", resource).rows().stream().filter(r -> r instanceof IndexRow.Str).count();
      puts.add(new ResourcePut("Patient", id, resource, bytes, false));
    }
    store.write(tx -> tx.putAll(puts));
    assertThat(familyById.values().stream().mapToLong(String::length).sum())
        .as("the families alone fill several chunks of idx_string").isGreaterThan(3L * CopyText.CHUNK_CHARS);

    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("""
            select r.res_id, s.exact from idx_string s join resource r on r.pk = s.res_pk
             where r.res_type = 'Patient' and r.res_id = any(?)""")) {
      ps.setArray(1, c.createArrayOf("text", familyById.keySet().toArray()));
      long rows = 0;
      Map<String, Integer> familiesFound = new HashMap<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows++;
          if (familyById.get(rs.getString(1)).equals(rs.getString(2))) {
            familiesFound.merge(rs.getString(1), 1, Integer::sum);
          }
        }
      }
      assertThat(rows).isEqualTo(expectedStrings);
      assertThat(familiesFound).hasSize(familyById.size());
    }
  }

  private static String jsonString(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\t", "\\t").replace("\n", "\\n") + "\"";
  }
}

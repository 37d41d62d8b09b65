package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reference parameters derived from another ({@code Observation.patient} is
 * {@code Observation.subject.where(resolve() is Patient)}): no rows of their own for local
 * references, the same answers everywhere a parameter is searched. Data as in
 * {@link SearchParametersTest}: tagged with this class's own code, every search filters on it.
 */
class DerivedReferenceTest {
  private static final TestServer server = TestServer.shared();
  private static final SearchClient client = new SearchClient(server);
  private static final String R = "d" + UUID.randomUUID().toString().substring(0, 8);
  private static final String TAG = "_tag=urn:sluice:test|" + R;
  /** Resources as an index written before parameters were derived left them, under a tag of their own. */
  private static final String OLD = R + "old";
  private static final String OTHER = "http://other.example/fhir/Patient/1";

  private static String resource(String type, String id, String tag, String rest) {
    return "{\"resourceType\":\"" + type + "\",\"id\":\"" + R + "-" + id + "\",\"meta\":{\"tag\":[{\"system\":"
        + "\"urn:sluice:test\",\"code\":\"" + tag + "\"}]}" + rest + "}";
  }

  private static String observation(String id, String code, String subject, String rest) {
    return resource("Observation", id, R, ",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:" + R
        + "\",\"code\":\"" + code + "\"}]}" + (subject == null ? "" : ",\"subject\":{\"reference\":\"" + subject + "\"}")
        + rest);
  }

  private static String encounter(String id, String individual) {
    return resource("Encounter", id, R, ",\"status\":\"finished\",\"class\":{\"code\":\"AMB\"},"
        + "\"subject\":{\"reference\":\"Patient/" + R + "-p1\"},"
        + "\"participant\":[{\"individual\":{\"reference\":\"" + individual + "\"}}]");
  }

  @BeforeAll
  static void load() throws SQLException {
    client.put(
        resource("Patient", "p1", R, ",\"name\":[{\"family\":\"Zedekiah" + R + "\"}],\"birthDate\":\"1970-01-01\""),
        resource("Patient", "p2", R, ",\"name\":[{\"family\":\"Ambrose" + R + "\"}],\"birthDate\":\"1980-02-02\""),
        resource("Group", "g1", R, ",\"type\":\"person\",\"actual\":true"),
        resource("Practitioner", "pr1", R, ""),
        resource("PractitionerRole", "pr1", R, ""),
        encounter("e1", "Practitioner/" + R + "-pr1"),
        encounter("e2", "PractitionerRole/" + R + "-pr1"),
        observation("o1", "a", "Patient/" + R + "-p1", ",\"encounter\":{\"reference\":\"Encounter/" + R + "-e1\"}"),
        observation("o2", "b", "Patient/" + R + "-p2", ""),
        observation("o3", "a", "Group/" + R + "-g1", ""),
        observation("o4", "b", OTHER, ""),
        observation("o5", "a", null, ""),
        resource("Observation", "old", OLD, ",\"status\":\"final\",\"code\":{\"text\":\"x\"},"
            + "\"subject\":{\"reference\":\"Patient/" + R + "-p2\"}"));
    // o-old as indexed before: a row of its own under the patient key, none under subject
    SearchParameters parameters = new SearchParameters(new FhirModel());
    int patient = parameters.find("Observation", "patient").orElseThrow().key();
    int subject = parameters.find("Observation", "subject").orElseThrow().key();
    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement delete = c.prepareStatement("""
            delete from idx_reference where key = ? and res_pk =
              (select pk from resource where res_type = 'Observation' and res_id = ?)""");
        PreparedStatement insert = c.prepareStatement("""
            insert into idx_reference (res_pk, key, grp, target_type, target_id, url)
            select pk, ?, 0, 'Patient', ?, null from resource where res_type = 'Observation' and res_id = ?""")) {
      delete.setInt(1, subject);
      delete.setString(2, R + "-old");
      assertThat(delete.executeUpdate()).isEqualTo(1);
      insert.setInt(1, patient);
      insert.setString(2, R + "-p2");
      insert.setString(3, R + "-old");
      assertThat(insert.executeUpdate()).isEqualTo(1);
    }
  }

  /** The matches of {@code Type?query} among this class's data, as short ids, sorted unless the query sorts. */
  private static List<String> find(String typeAndQuery) {
    return find(typeAndQuery, TAG);
  }

  private static List<String> find(String typeAndQuery, String tag) {
    List<String> ids = new ArrayList<>();
    for (String id : client.ids(typeAndQuery + (typeAndQuery.contains("?") ? "&" : "?") + tag)) {
      ids.add(id.substring(R.length() + 1));
    }
    if (!typeAndQuery.contains("_sort")) {
      ids.sort(null);
    }
    return ids;
  }

  private static List<String> shortIds(JsonNode bundle, String mode) {
    return SearchClient.ids(bundle, mode).stream().map(id -> id.substring(R.length() + 1)).sorted().toList();
  }

  @Test
  void patient_matches_a_local_subject_by_id_type_and_id_and_type_modifier() {
    assertThat(find("Observation?patient=" + R + "-p1")).containsExactly("o1");
    assertThat(find("Observation?patient=Patient/" + R + "-p1")).containsExactly("o1");
    assertThat(find("Observation?patient:Patient=" + R + "-p2")).containsExactly("o2");
    assertThat(find("Observation?patient=" + R + "-p1," + R + "-p2")).containsExactly("o1", "o2");
    assertThat(find("Observation?subject=" + R + "-p1")).containsExactly("o1");
  }

  @Test
  void patient_does_not_match_a_subject_that_is_a_group() {
    assertThat(find("Observation?patient=" + R + "-g1")).isEmpty();
    assertThat(find("Observation?patient=Group/" + R + "-g1")).isEmpty();
    assertThat(find("Observation?subject=Group/" + R + "-g1")).containsExactly("o3");
  }

  @Test
  void patient_missing_counts_patients_only() {
    assertThat(find("Observation?patient:missing=true")).containsExactly("o3", "o5");
    assertThat(find("Observation?patient:missing=false")).containsExactly("o1", "o2", "o4");
    assertThat(find("Observation?subject:missing=true")).containsExactly("o5");
  }

  @Test
  void a_patient_on_another_server_is_found_by_its_url_through_patient_and_subject() {
    assertThat(find("Observation?patient=" + OTHER)).containsExactly("o4");
    assertThat(find("Observation?subject=" + OTHER)).containsExactly("o4");
    assertThat(find("Observation?patient=" + R + "-p9")).isEmpty();
  }

  @Test
  void include_and_revinclude_follow_the_derived_parameter() {
    JsonNode inc = client.bundle("Observation?" + TAG + "&_id=" + R + "-o1," + R + "-o3&_include=Observation:patient");
    assertThat(shortIds(inc, "match")).containsExactly("o1", "o3");
    assertThat(shortIds(inc, "include")).containsExactly("p1");
    JsonNode rev = client.bundle("Patient?" + TAG + "&_id=" + R + "-p1&_revinclude=Observation:patient");
    assertThat(shortIds(rev, "include")).containsExactly("o1");
    JsonNode group = client.bundle("Group?" + TAG + "&_id=" + R + "-g1&_revinclude=Observation:patient");
    assertThat(shortIds(group, "include")).isEmpty();
    JsonNode iterate = client.bundle("Encounter?" + TAG + "&_id=" + R + "-e1&_revinclude=Observation:encounter"
        + "&_include:iterate=Observation:patient");
    assertThat(shortIds(iterate, "include")).containsExactly("o1", "p1");
  }

  @Test
  void has_and_chains_go_through_the_derived_parameter() {
    assertThat(find("Patient?_has:Observation:patient:code=urn:" + R + "|a")).containsExactly("p1");
    assertThat(find("Patient?_has:Observation:patient:code=urn:" + R + "|b")).containsExactly("p2");
    assertThat(find("Group?_has:Observation:subject:code=urn:" + R + "|a")).containsExactly("g1");
    assertThat(find("Observation?patient.name=Zedekiah" + R)).containsExactly("o1");
    assertThat(find("Observation?patient:Patient.birthdate=1980")).containsExactly("o2");
    assertThat(find("Observation?patient.birthdate=1970-01-01")).containsExactly("o1");
  }

  @Test
  void sort_by_patient_puts_observations_without_one_last() {
    assertThat(find("Observation?_id=" + R + "-o1," + R + "-o2," + R + "-o3&_sort=-patient"))
        .containsExactly("o2", "o1", "o3");
    assertThat(find("Observation?_id=" + R + "-o1," + R + "-o2," + R + "-o3&_sort=patient"))
        .containsExactly("o1", "o2", "o3");
  }

  @Test
  void encounter_practitioner_is_the_participant_that_is_a_practitioner() {
    assertThat(find("Encounter?practitioner=" + R + "-pr1")).containsExactly("e1");
    assertThat(find("Encounter?practitioner=Practitioner/" + R + "-pr1")).containsExactly("e1");
    assertThat(find("Encounter?participant=" + R + "-pr1")).containsExactly("e1", "e2");
    assertThat(find("Practitioner?_has:Encounter:practitioner:status=finished")).containsExactly("pr1");
  }

  @Test
  void rows_written_before_the_parameter_was_derived_still_count() {
    assertThat(find("Observation?patient=" + R + "-p2", "_tag=urn:sluice:test|" + OLD)).containsExactly("old");
    assertThat(find("Observation?patient:missing=false", "_tag=urn:sluice:test|" + OLD)).containsExactly("old");
    assertThat(find("Observation?patient.name=Ambrose" + R, "_tag=urn:sluice:test|" + OLD)).containsExactly("old");
    JsonNode rev = client.bundle("Patient?" + TAG + "&_id=" + R + "-p2&_revinclude=Observation:patient");
    assertThat(shortIds(rev, "include")).containsExactly("o2", "old");
  }
}

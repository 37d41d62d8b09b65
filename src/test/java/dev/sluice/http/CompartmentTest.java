package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class CompartmentTest {
  private final TestServer server = TestServer.shared();

  private List<String> compartmentOf(String type, String id) throws Exception {
    DataSource ds = server.app().dataSource();
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "select c.patient_id from compartment c join resource r on r.pk = c.res_pk"
                + " where r.res_type = ? and r.res_id = ? order by 1")) {
      ps.setString(1, type);
      ps.setString(2, id);
      List<String> ids = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
      return ids;
    }
  }

  @Test
  void observation_is_recorded_in_its_subjects_compartment_even_before_the_patient_exists() throws Exception {
    String obs = UUID.randomUUID().toString();
    String patient = "p-" + UUID.randomUUID();
    server.put("Observation/" + obs, "{\"resourceType\":\"Observation\",\"id\":\"" + obs
        + "\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/" + patient + "\"}}");
    assertThat(compartmentOf("Observation", obs)).containsExactly(patient);
  }

  @Test
  void patient_is_in_its_own_compartment_and_update_replaces_membership() throws Exception {
    String obs = UUID.randomUUID().toString();
    server.put("Patient/a-" + obs, "{\"resourceType\":\"Patient\",\"id\":\"a-" + obs + "\"}");
    assertThat(compartmentOf("Patient", "a-" + obs)).containsExactly("a-" + obs);
    String body = "{\"resourceType\":\"Observation\",\"id\":\"" + obs
        + "\",\"status\":\"final\",\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/%s\"}}";
    server.put("Observation/" + obs, body.formatted("one"));
    server.put("Observation/" + obs, body.formatted("two"));
    assertThat(compartmentOf("Observation", obs)).containsExactly("two");
    server.delete("Observation/" + obs);
    assertThat(compartmentOf("Observation", obs)).isEmpty();
  }

  @Test
  void organization_is_in_no_patient_compartment() throws Exception {
    String id = UUID.randomUUID().toString();
    server.put("Organization/" + id, "{\"resourceType\":\"Organization\",\"id\":\"" + id + "\",\"name\":\"x\"}");
    assertThat(compartmentOf("Organization", id)).isEmpty();
  }
}

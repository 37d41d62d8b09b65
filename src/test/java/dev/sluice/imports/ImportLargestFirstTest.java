package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A job's parts are claimed largest input first, whatever the order of the request's inputs: a
 * large input claimed last would run alone at the end while the other workers idle. With one
 * worker the parts run one after the other, so the resources' primary keys (given in insert order)
 * tell which ran first.
 */
class ImportLargestFirstTest {

  @Test
  void the_largest_input_is_imported_first() throws Exception {
    ExportConfig d = ExportConfig.defaults();
    ExportConfig one = new ExportConfig(d.storage(), d.azureConnectionString(), 1, d.maxRunningJobs(), d.maxFileBytes(),
        d.maxFileResources(), d.partResources(), d.leaseSeconds(), d.retentionSeconds(), true, d.storeRetries());
    try (TestServer server = TestServer.start(Files.createTempDirectory("sluice-import-largest"), dir -> {
      Config base = TestServer.config(dir);
      return new Config(base.host(), base.port(), base.dataDir(), base.dbUrl(), base.dbUser(), base.dbPassword(),
          base.dbPoolSize(), base.publicBaseUrl(), base.maxBodyBytes(), one).validate();
    })) {
      ImportClient client = new ImportClient(server);
      client.write("small.ndjson", patients("small", 3));
      client.write("large.ndjson", patients("large", 40));
      client.write("middle.ndjson", patients("middle", 10));
      HttpResponse<String> kick = client.kickOff(ImportClient.request("IncrementalLoad",
          "small.ndjson", "Patient", "large.ndjson", "Patient", "middle.ndjson", "Patient"));
      assertThat(kick.statusCode()).as(kick.body()).isEqualTo(202);
      JsonNode result = client.await(kick.headers().firstValue("Content-Location").orElseThrow());
      assertThat(result.get("error")).as(result.toString()).isEmpty();
      assertThat(ImportClient.imported(result)).isEqualTo(53);
      try (Connection c = server.app().dataSource().getConnection();
          ResultSet rs = c.createStatement().executeQuery("select split_part(res_id, '-', 1), min(pk), max(pk)"
              + " from resource where res_type = 'Patient' group by 1 order by 2")) {
        List<String> order = new ArrayList<>();
        long lastMax = Long.MIN_VALUE;
        while (rs.next()) {
          order.add(rs.getString(1));
          assertThat(rs.getLong(2)).as("one input after the other").isGreaterThan(lastMax);
          lastMax = rs.getLong(3);
        }
        assertThat(order).containsExactly("large", "middle", "small");
      }
    }
  }

  private static List<String> patients(String prefix, int n) {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      lines.add("{\"resourceType\":\"Patient\",\"id\":\"" + prefix + "-" + i + "\",\"active\":true}");
    }
    return lines;
  }
}

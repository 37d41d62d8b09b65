package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The planner's statistics follow bulk writes within seconds, not at autovacuum's next round (issue #3). */
class PlannerStatisticsTest {
  private static final List<String> TABLES = List.of("resource", "resource_version", "compartment", "idx_token",
      "idx_string", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri");
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.startFresh();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static String one(String sql) throws SQLException {
    try (Connection c = server.app().dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  @Test
  void every_resource_and_index_table_is_analyzed_after_two_percent_of_it_changed() throws SQLException {
    for (String table : TABLES) {
      assertThat(one("select array_to_string(reloptions, ',') from pg_class where relname = '" + table + "'"))
          .as(table).contains("autovacuum_analyze_scale_factor=0.02", "autovacuum_analyze_threshold=1000");
    }
  }

  @Test
  void token_keys_codes_and_systems_have_statistics_together() throws SQLException {
    // most-common combinations and dependencies: a code says which key and system it goes with
    assertThat(one("select stxkind::text from pg_statistic_ext where stxname = 'idx_token_value_stats'"))
        .contains("m", "f");
    assertThat(one("select string_agg(a.attname, ',' order by a.attnum) from pg_statistic_ext e"
        + " join pg_attribute a on a.attrelid = e.stxrelid and a.attnum = any(e.stxkeys)"
        + " where e.stxname = 'idx_token_value_stats'")).isEqualTo("key,system,code");
  }

  @Test
  void tables_are_analyzed_within_seconds_once_a_bulk_write_is_over() throws Exception {
    String before = one("select now()::text");
    StringBuilder bundle = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[");
    for (int i = 0; i < 1500; i++) {
      bundle.append(i == 0 ? "" : ",").append("{\"resource\":{\"resourceType\":\"Basic\",\"id\":\"stats-").append(i)
          .append("\",\"code\":{\"text\":\"x\"}},\"request\":{\"method\":\"PUT\",\"url\":\"Basic/stats-").append(i)
          .append("\"}}");
    }
    HttpResponse<String> r = server.post("", bundle.append("]}").toString(), "Prefer", "return=minimal");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    List<String> seen = new ArrayList<>();
    // last_analyze, not last_autoanalyze: the server's own ANALYZE, not autovacuum's next round
    long deadline = System.nanoTime() + 30_000_000_000L;
    String analyzed = null;
    while (System.nanoTime() < deadline) {
      analyzed = one("select last_analyze::text from pg_stat_user_tables where relname = 'resource'"
          + " and last_analyze > '" + before + "'::timestamptz");
      if (analyzed != null) {
        break;
      }
      seen.add(one("select n_mod_since_analyze::text from pg_stat_user_tables where relname = 'resource'"));
      Thread.sleep(1000);
    }
    assertThat(analyzed).as("rows changed since the last ANALYZE, each second: %s", seen).isNotNull();
    assertThat(one("select reltuples::bigint::text from pg_class where relname = 'resource'")).isEqualTo("1500");
  }
}

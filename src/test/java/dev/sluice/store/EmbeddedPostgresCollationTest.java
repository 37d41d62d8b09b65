package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * A new embedded cluster orders text by code point with PostgreSQL's own builtin C.UTF-8 collation,
 * whatever the locale of the environment that first starts it: the order glibc's C.UTF-8 gave, without
 * a call into the C library for every comparison of an index build, insert or lookup.
 */
class EmbeddedPostgresCollationTest {

  @Test
  void a_new_data_dir_orders_text_by_code_point_with_the_builtin_collation() throws SQLException {
    try (TestServer server = TestServer.startFresh();
        Connection c = server.app().dataSource().getConnection(); Statement s = c.createStatement()) {
      assertThat(value(s, "select datlocprovider::text || ' ' || coalesce(datlocale, datcollate) from pg_database where datname = current_database()"))
          .isEqualTo("b C.UTF-8");
      assertThat(value(s, "select string_agg(v, ' ' order by v) from unnest(array['b', 'é', 'B', 'a', 'Z', 'ä', '1', '_'])"
          + " v")).isEqualTo("1 B Z _ a b ä é");
      assertThat(value(s, "select upper('straße é')")).isEqualTo("STRAßE É");
    }
  }

  private static String value(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

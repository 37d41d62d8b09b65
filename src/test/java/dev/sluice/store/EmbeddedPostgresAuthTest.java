package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import dev.sluice.testing.TestServer;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/** The embedded PostgreSQL opens only with its password, and only on 127.0.0.1. */
class EmbeddedPostgresAuthTest {

  @Test
  void a_new_data_dir_asks_for_the_password_kept_in_a_file_only_its_owner_reads_and_without_the_file_is_refused() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-password");
    try (TestServer server = TestServer.start(dataDir)) {
      HikariDataSource pool = (HikariDataSource) server.app().dataSource();
      assertRefusesWithoutPassword(pool.getJdbcUrl());
      Path passwordFile = server.dataDir().resolve("postgres.password");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile))).isEqualTo("rw-------");
      try (Connection c = DriverManager.getConnection(pool.getJdbcUrl(), "postgres",
          Files.readString(passwordFile).trim()); Statement s = c.createStatement()) {
        assertThat(value(s, "show listen_addresses")).isEqualTo("127.0.0.1");
        assertThat(value(s, "show unix_socket_directories")).isEmpty();
        assertThat(value(s, "show password_encryption")).isEqualTo("scram-sha-256");
        assertThat(value(s, "select current_setting('server_version_num')::int / 10000"))
            .isEqualTo(Integer.toString(EmbeddedPostgresServer.BUNDLED_MAJOR));
      }
      assertThat(PgHba.trusts(server.dataDir().resolve("postgres"))).isFalse();
      assertThat(Files.readString(server.dataDir().resolve("postgres/PG_VERSION")).trim()).isEqualTo("17");
    }
    try {
      Files.delete(dataDir.resolve("postgres.password"));
      assertThatThrownBy(() -> TestServer.start(dataDir)).isInstanceOf(DataDirRefused.class)
          .hasMessage(dataDir.resolve("postgres.password") + " is missing, and the database in "
              + dataDir.resolve("postgres") + " opens only with the password it held; restore the file");
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  @Test
  void a_data_dir_made_with_trust_keeps_its_data_and_then_asks_for_the_password() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-trust");
    try {
      // a data directory as Sluice made them before: the library's initdb, trust for everyone
      try (EmbeddedPostgres old = EmbeddedPostgres.builder().setDataDirectory(dataDir.resolve("postgres"))
          .setCleanDataDirectory(false).start();
          Connection c = old.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
        s.execute("create schema before");
        s.execute("create table before.kept (v text)");
        s.execute("insert into before.kept values ('from before')");
      }
      assertThat(PgHba.trusts(dataDir.resolve("postgres"))).isTrue();
      try (TestServer server = TestServer.start(dataDir)) {
        HikariDataSource pool = (HikariDataSource) server.app().dataSource();
        assertRefusesWithoutPassword(pool.getJdbcUrl());
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
          assertThat(value(s, "select v from before.kept")).isEqualTo("from before");
        }
        assertThat(PgHba.trusts(dataDir.resolve("postgres"))).isFalse();
      }
      try (TestServer again = TestServer.start(dataDir)) {
        assertRefusesWithoutPassword(((HikariDataSource) again.app().dataSource()).getJdbcUrl());
      }
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  private static void assertRefusesWithoutPassword(String url) {
    assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", null).close())
        .isInstanceOf(SQLException.class).hasMessageContaining("password");
    assertThatThrownBy(() -> DriverManager.getConnection(url, "postgres", "postgres").close())
        .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
  }

  private static String value(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import javax.sql.DataSource;

/**
 * The {@code auth_assertion_jti} table: the ids of the client assertions already used, until
 * they expire, so that a replayed assertion is refused by every process sharing the database.
 */
public final class AssertionJtiTable {
  private static final String RECORD =
      "insert into auth_assertion_jti (client_id, jti, expires_at) values (?, ?, ?) on conflict do nothing";
  private static final String PURGE = "delete from auth_assertion_jti where expires_at < ?";

  private final DataSource dataSource;

  public AssertionJtiTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Records a jti as used until {@code expiresAt}, and forgets those expired before {@code now}.
   *
   * @return false when the client used it before (a replay)
   */
  public boolean recordFirstUse(String clientId, String jti, Instant expiresAt, Instant now) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement purge = c.prepareStatement(PURGE)) {
        purge.setTimestamp(1, Timestamp.from(now));
        purge.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(RECORD)) {
        ps.setString(1, clientId);
        ps.setString(2, jti);
        ps.setTimestamp(3, Timestamp.from(expiresAt));
        return ps.executeUpdate() == 1;
      }
    }
  }
}

package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The {@code auth_signing_key} table (keys Sluice signs access tokens with) and the
 * installation's issuer in {@code auth_server}.
 */
public final class SigningKeyTable {
  /** A key as stored: its id, its private JWK JSON, and when it stopped signing (null while current). */
  public record Key(String kid, String jwk, Instant createdAt, Instant retiredAt) {}

  private static final String INSERT = "insert into auth_signing_key (kid, jwk) values (?, ?)";
  private static final String RETIRE_OTHERS =
      "update auth_signing_key set retired_at = clock_timestamp() where retired_at is null and kid <> ?";
  private static final String LIVE =
      """
      select kid, jwk, created_at, retired_at from auth_signing_key
       where retired_at is null or retired_at > ?
       order by created_at desc, kid
      """;
  private static final String FORGET = "delete from auth_signing_key where retired_at <= ?";
  private static final String ISSUER = "select issuer from auth_server";

  private final DataSource dataSource;

  public SigningKeyTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Stores a new key; with {@code retireOthers} it becomes the only one that signs. */
  public void insert(String kid, String jwk, boolean retireOthers) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(INSERT)) {
        ps.setString(1, kid);
        ps.setString(2, jwk);
        ps.executeUpdate();
        if (retireOthers) {
          try (PreparedStatement r = c.prepareStatement(RETIRE_OTHERS)) {
            r.setString(1, kid);
            r.executeUpdate();
          }
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  /**
   * The keys that sign or still verify: unretired ones, and those retired after
   * {@code retiredAfter}; newest first. Keys retired before that are deleted.
   */
  public List<Key> live(Instant retiredAfter) throws SQLException {
    List<Key> keys = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement forget = c.prepareStatement(FORGET)) {
        forget.setTimestamp(1, Timestamp.from(retiredAfter));
        forget.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement(LIVE)) {
        ps.setTimestamp(1, Timestamp.from(retiredAfter));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Timestamp retired = rs.getTimestamp(4);
            keys.add(new Key(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
                retired == null ? null : retired.toInstant()));
          }
        }
      }
    }
    return keys;
  }

  /** The issuer made for this installation when the schema was created. */
  public String installationIssuer() throws SQLException {
    try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(ISSUER)) {
      rs.next();
      return rs.getString(1);
    }
  }
}

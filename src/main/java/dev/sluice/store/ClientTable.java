package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** The {@code auth_client} table: the SMART clients that may ask for tokens. */
public final class ClientTable {
  private static final String UPSERT =
      """
      insert into auth_client (id, jwks_url, jwks, scope) values (?, ?, ?, ?)
      on conflict (id) do update set jwks_url = excluded.jwks_url, jwks = excluded.jwks, scope = excluded.scope
      returning (xmax = 0) as inserted
      """;
  private static final String FIND = "select id, jwks_url, jwks, scope, created_at from auth_client where id = ?";
  private static final String ALL = "select id, jwks_url, jwks, scope, created_at from auth_client order by id";
  private static final String REMOVE = "delete from auth_client where id = ?";

  private final DataSource dataSource;

  public ClientTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Registers a client, or replaces the keys and scopes of one registered before; true when new. */
  public boolean put(ClientRow client) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(UPSERT)) {
      ps.setString(1, client.id());
      ps.setString(2, client.jwksUrl());
      ps.setString(3, client.jwks());
      ps.setString(4, client.scope());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  public Optional<ClientRow> find(String id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FIND)) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(row(rs)) : Optional.empty();
      }
    }
  }

  public List<ClientRow> all() throws SQLException {
    List<ClientRow> rows = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(ALL);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        rows.add(row(rs));
      }
    }
    return rows;
  }

  /** @return false when there was no such client */
  public boolean remove(String id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(REMOVE)) {
      ps.setString(1, id);
      return ps.executeUpdate() > 0;
    }
  }

  private static ClientRow row(ResultSet rs) throws SQLException {
    return new ClientRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
        rs.getTimestamp(5).toInstant());
  }
}

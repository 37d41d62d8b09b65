package dev.sluice.store;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.StoredJson;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TimeZone;
import java.util.UUID;
import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.Resource;

/**
 * Writes inside one database transaction: every write gets a new version, the previous
 * version is closed at the new one's time, and the search index follows in the same
 * transaction. Obtained from {@link ResourceStore#write}.
 *
 * <p>Timestamps come from the database clock after the transaction has its xid, so that
 * an export can wait for every transaction that could still commit a version stamped at or
 * before its transactionTime (see {@code docs/ARCHITECTURE.md}, "Point in time").
 */
public final class WriteTransaction {
  private static final TimeZone UTC = TimeZone.getTimeZone("UTC");

  private static final String TX_CLOCK =
      "select pg_current_xact_id()::text, date_trunc('milliseconds', clock_timestamp())";

  private static final String INSERT_NEW =
      """
      insert into resource (res_type, res_id, version, last_updated, deleted)
      values (?, ?, 1, ?, false)
      on conflict (res_type, res_id) do nothing
      returning pk, version, last_updated
      """;

  // A version later than the previous one even when another transaction stamped it later
  private static final String UPSERT =
      """
      insert into resource (res_type, res_id, version, last_updated, deleted)
      values (?, ?, 1, ?, false)
      on conflict (res_type, res_id) do update
        set version = resource.version + 1,
            last_updated = greatest(excluded.last_updated, resource.last_updated + interval '1 millisecond'),
            deleted = false
      returning pk, version, last_updated
      """;

  private static final String UPDATE_IF_MATCH =
      """
      update resource
         set version = version + 1,
             last_updated = greatest(?, last_updated + interval '1 millisecond'),
             deleted = false
       where res_type = ? and res_id = ? and version = ?
      returning pk, version, last_updated
      """;

  private static final String DELETE =
      """
      update resource
         set version = version + 1,
             last_updated = greatest(?, last_updated + interval '1 millisecond'),
             deleted = true
       where res_type = ? and res_id = ? and not deleted
      returning pk, version, last_updated
      """;

  private static final String CURRENT_VERSION =
      "select version, deleted from resource where res_type = ? and res_id = ?";

  private static final String INSERT_VERSION =
      """
      insert into resource_version (pk, version, res_type, res_id, last_updated, deleted, content)
      values (?, ?, ?, ?, ?, ?, ?)
      """;

  // Many resources in one statement; sorted so that concurrent bulk writes lock rows in one order
  private static final String UPSERT_MANY =
      """
      insert into resource (res_type, res_id, version, last_updated, deleted)
      select t, i, 1, ?, false from unnest(?::text[], ?::text[]) as u(t, i) order by t, i
      on conflict (res_type, res_id) do update
        set version = resource.version + 1,
            last_updated = greatest(excluded.last_updated, resource.last_updated + interval '1 millisecond'),
            deleted = false
      returning res_type, res_id, pk, version, last_updated
      """;

  private static final String CLOSE_PREVIOUS =
      "update resource_version set valid_to = ? where pk = ? and version = ?";

  private final Connection connection;
  private final FhirModel fhir;
  private final SearchIndexWriter.Batch index;
  private Timestamp clock;

  WriteTransaction(Connection connection, FhirModel fhir, SearchIndexWriter indexer) {
    this.connection = connection;
    this.fhir = fhir;
    this.index = indexer.begin(connection);
  }

  Connection connection() {
    return connection;
  }

  /** Creates a resource with a new server-assigned id. */
  public StoredResource create(String type, IBaseResource resource) throws SQLException {
    return create(type, UUID.randomUUID().toString(), resource, null);
  }

  /** Like {@link #create(String, IBaseResource)}, storing {@code json} (the body the model was parsed from). */
  public StoredResource create(String type, IBaseResource resource, byte[] json) throws SQLException {
    return create(type, UUID.randomUUID().toString(), resource, json);
  }

  /** Creates a resource with an id the server chose beforehand (a transaction resolving urn:uuid). */
  public StoredResource create(String type, String id, IBaseResource resource) throws SQLException {
    return create(type, id, resource, null);
  }

  private StoredResource create(String type, String id, IBaseResource resource, byte[] json) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(INSERT_NEW)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setTimestamp(3, clock());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw FhirException.conflict("Generated id " + id + " collides with an existing resource");
        }
        return storeVersion(type, id, rs.getLong(1), rs.getInt(2), rs.getTimestamp(3), resource, json, true);
      }
    }
  }

  /**
   * Updates a resource, creating it with this id when it does not exist yet.
   *
   * @param ifMatch the version the client expects to replace, or null
   */
  public StoredResource update(String type, String id, IBaseResource resource, Integer ifMatch)
      throws SQLException {
    return update(type, id, resource, ifMatch, null);
  }

  /**
   * Like {@link #update(String, String, IBaseResource, Integer)}, storing {@code json} (the body
   * the model was parsed from; null to encode the model).
   */
  public StoredResource update(String type, String id, IBaseResource resource, Integer ifMatch, byte[] json)
      throws SQLException {
    if (ifMatch != null) {
      try (PreparedStatement ps = connection.prepareStatement(UPDATE_IF_MATCH)) {
        ps.setTimestamp(1, clock());
        ps.setString(2, type);
        ps.setString(3, id);
        ps.setInt(4, ifMatch);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw FhirException.preconditionFailed(
                "If-Match version " + ifMatch + " does not match the current version of "
                    + type + "/" + id);
          }
          return storeVersion(type, id, rs.getLong(1), rs.getInt(2), rs.getTimestamp(3), resource, json, false);
        }
      }
    }
    try (PreparedStatement ps = connection.prepareStatement(UPSERT)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setTimestamp(3, clock());
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        int version = rs.getInt(2);
        return storeVersion(type, id, rs.getLong(1), version, rs.getTimestamp(3), resource, json, version == 1);
      }
    }
  }

  /**
   * Deletes a resource. Deleting one that does not exist or is already deleted changes
   * nothing (delete is idempotent).
   *
   * @return the deletion version, or empty when there was nothing to delete
   */
  public Optional<StoredResource> delete(String type, String id, Integer ifMatch) throws SQLException {
    if (ifMatch != null) {
      Optional<int[]> current = currentVersion(type, id);
      if (current.isEmpty() || current.get()[0] != ifMatch) {
        throw FhirException.preconditionFailed(
            "If-Match version " + ifMatch + " does not match the current version of " + type + "/" + id);
      }
    }
    try (PreparedStatement ps = connection.prepareStatement(DELETE)) {
      ps.setTimestamp(1, clock());
      ps.setString(2, type);
      ps.setString(3, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        long pk = rs.getLong(1);
        int version = rs.getInt(2);
        Timestamp at = rs.getTimestamp(3);
        insertVersion(pk, version, type, id, at, true, null);
        index.remove(pk);
        return Optional.of(new StoredResource(type, id, version, at.toInstant(), true, null, false));
      }
    }
  }

  /** Version and deleted flag (1 or 0) of the current version, if the resource ever existed. */
  private Optional<int[]> currentVersion(String type, String id) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(CURRENT_VERSION)) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new int[] {rs.getInt(1), rs.getBoolean(2) ? 1 : 0}) : Optional.empty();
      }
    }
  }

  /** One write of {@link ResourceStore#writeBatch}: a create with a known id, or an update. */
  public StoredResource put(ResourcePut put) throws SQLException {
    return put.mustBeNew()
        ? create(put.type(), put.id(), put.resource(), put.json())
        : update(put.type(), put.id(), put.resource(), null, put.json());
  }

  /**
   * Writes many resources with a few statements instead of several per resource: one upsert of
   * all their {@code resource} rows, then their versions in one JDBC batch. The keys must be
   * distinct.
   *
   * @return what was stored, in the order of {@code puts}
   * @throws FhirException 409 when a create meets an existing resource
   */
  public List<StoredResource> putAll(List<ResourcePut> puts) throws SQLException {
    String[] types = new String[puts.size()];
    String[] ids = new String[puts.size()];
    for (int i = 0; i < puts.size(); i++) {
      types[i] = puts.get(i).type();
      ids[i] = puts.get(i).id();
    }
    Map<String, Row> rows = new HashMap<>(puts.size() * 2);
    try (PreparedStatement ps = connection.prepareStatement(UPSERT_MANY)) {
      ps.setTimestamp(1, clock());
      ps.setArray(2, connection.createArrayOf("text", types));
      ps.setArray(3, connection.createArrayOf("text", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(rs.getString(1) + "/" + rs.getString(2), new Row(rs.getLong(3), rs.getInt(4), rs.getTimestamp(5)));
        }
      }
    }
    List<StoredResource> stored = new ArrayList<>(puts.size());
    try (PreparedStatement insert = connection.prepareStatement(INSERT_VERSION);
        PreparedStatement close = connection.prepareStatement(CLOSE_PREVIOUS)) {
      boolean closing = false;
      for (ResourcePut put : puts) {
        Row row = rows.get(put.type() + "/" + put.id());
        if (put.mustBeNew() && row.version() != 1) {
          throw FhirException.conflict("Generated id " + put.id() + " collides with an existing resource");
        }
        byte[] content = stamp(put.type(), put.id(), row.version(), row.at(), put.resource(), put.json());
        bindVersion(insert, row.pk(), row.version(), put.type(), put.id(), row.at(), false, content);
        insert.addBatch();
        if (row.version() > 1) {
          bindClose(close, row.pk(), row.version(), row.at());
          close.addBatch();
          closing = true;
        }
        index.replace(row.pk(), put.type(), put.resource());
        stored.add(new StoredResource(put.type(), put.id(), row.version(), row.at().toInstant(), false, content,
            row.version() == 1));
      }
      insert.executeBatch();
      if (closing) {
        close.executeBatch();
      }
    }
    return stored;
  }

  private record Row(long pk, int version, Timestamp at) {}

  private StoredResource storeVersion(
      String type, String id, long pk, int version, Timestamp at, IBaseResource resource, byte[] json,
      boolean created) throws SQLException {
    byte[] content = stamp(type, id, version, at, resource, json);
    insertVersion(pk, version, type, id, at, false, content);
    index.replace(pk, type, resource);
    return new StoredResource(type, id, version, at.toInstant(), false, content, created);
  }

  /**
   * Sets id, versionId and lastUpdated on the model (the index reads it) and makes the stored
   * JSON: from the request's own JSON when there is one, which is much cheaper than encoding
   * the model.
   */
  private byte[] stamp(String type, String id, int version, Timestamp at, IBaseResource resource, byte[] json) {
    Resource r4 = (Resource) resource;
    r4.setId(id);
    r4.getMeta().setVersionId(Integer.toString(version));
    InstantType lastUpdated = new InstantType(new Date(at.getTime()), TemporalPrecisionEnum.MILLI, UTC);
    r4.getMeta().setLastUpdatedElement(lastUpdated);
    return json == null
        ? fhir.encodeJson(resource)
        : StoredJson.stamp(json, type, id, Integer.toString(version), lastUpdated.getValueAsString());
  }

  private void insertVersion(
      long pk, int version, String type, String id, Timestamp at, boolean deleted, byte[] content)
      throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(INSERT_VERSION)) {
      bindVersion(ps, pk, version, type, id, at, deleted, content);
      ps.executeUpdate();
    }
    if (version > 1) {
      try (PreparedStatement ps = connection.prepareStatement(CLOSE_PREVIOUS)) {
        bindClose(ps, pk, version, at);
        ps.executeUpdate();
      }
    }
  }

  private static void bindVersion(PreparedStatement ps, long pk, int version, String type, String id, Timestamp at,
      boolean deleted, byte[] content) throws SQLException {
    ps.setLong(1, pk);
    ps.setInt(2, version);
    ps.setString(3, type);
    ps.setString(4, id);
    ps.setTimestamp(5, at);
    ps.setBoolean(6, deleted);
    ps.setBytes(7, content);
  }

  /** Closes the version before {@code version} at {@code at}. */
  private static void bindClose(PreparedStatement ps, long pk, int version, Timestamp at) throws SQLException {
    ps.setTimestamp(1, at);
    ps.setLong(2, pk);
    ps.setInt(3, version - 1);
  }

  /** The transaction's clock, read once its xid exists. */
  private Timestamp clock() throws SQLException {
    if (clock == null) {
      try (PreparedStatement ps = connection.prepareStatement(TX_CLOCK);
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        clock = rs.getTimestamp(2);
      }
    }
    return clock;
  }

  void flush() throws SQLException {
    index.flush();
  }

  /** Forgets index rows not flushed yet, after the writes they belong to were rolled back. */
  void discard() {
    index.discard();
  }
}

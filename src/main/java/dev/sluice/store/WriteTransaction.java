package dev.sluice.store;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.Date;
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
    return create(type, UUID.randomUUID().toString(), resource);
  }

  /** Creates a resource with an id the server chose beforehand (a transaction resolving urn:uuid). */
  public StoredResource create(String type, String id, IBaseResource resource) throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(INSERT_NEW)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setTimestamp(3, clock());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw FhirException.conflict("Generated id " + id + " collides with an existing resource");
        }
        return storeVersion(type, id, rs.getLong(1), rs.getInt(2), rs.getTimestamp(3), resource, true);
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
          return storeVersion(type, id, rs.getLong(1), rs.getInt(2), rs.getTimestamp(3), resource, false);
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
        return storeVersion(type, id, rs.getLong(1), version, rs.getTimestamp(3), resource, version == 1);
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

  private StoredResource storeVersion(
      String type, String id, long pk, int version, Timestamp at, IBaseResource resource, boolean created)
      throws SQLException {
    Resource r4 = (Resource) resource;
    r4.setId(id);
    r4.getMeta().setVersionId(Integer.toString(version));
    r4.getMeta().setLastUpdatedElement(new InstantType(new Date(at.getTime()), TemporalPrecisionEnum.MILLI, UTC));
    byte[] content = fhir.encodeJson(resource);
    insertVersion(pk, version, type, id, at, false, content);
    index.replace(pk, type, resource);
    return new StoredResource(type, id, version, at.toInstant(), false, content, created);
  }

  private void insertVersion(
      long pk, int version, String type, String id, Timestamp at, boolean deleted, byte[] content)
      throws SQLException {
    try (PreparedStatement ps = connection.prepareStatement(INSERT_VERSION)) {
      ps.setLong(1, pk);
      ps.setInt(2, version);
      ps.setString(3, type);
      ps.setString(4, id);
      ps.setTimestamp(5, at);
      ps.setBoolean(6, deleted);
      ps.setBytes(7, content);
      ps.executeUpdate();
    }
    if (version > 1) {
      try (PreparedStatement ps = connection.prepareStatement(CLOSE_PREVIOUS)) {
        ps.setTimestamp(1, at);
        ps.setLong(2, pk);
        ps.setInt(3, version - 1);
        ps.executeUpdate();
      }
    }
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

package dev.sluice.store;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Sha256;
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
 * transaction. An update whose content equals the current version's (its versionId and
 * lastUpdated aside) keeps that version and answers with it, as HAPI does: the comparison of
 * the bodies' lengths and SHA-256 runs in the statement that writes, no extra round trip.
 * Obtained from {@link ResourceStore#write}.
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

  // The resources of u (type, id, and the head length, body length and body digest of the
  // content to write) whose current version has that content. Its head is ours, stamped with
  // its versionId and lastUpdated, so equal lengths and equal bodies mean equal content.
  private static final String SAME =
      """
      same as (
        select u.t, u.i, r.pk, r.version, r.last_updated
          from u
          join resource r on r.res_type = u.t and r.res_id = u.i and not r.deleted
          join resource_version v on v.pk = r.pk and v.version = r.version
         where u.digest is not null
           and length(v.content) = u.head + length(r.version::text) + u.body
           and sha256(substring(v.content from u.head + length(r.version::text) + 1)) = u.digest
      """;

  // Many resources in one statement: those whose content changed (or that are new) get a new
  // version, later than the previous one even when another transaction stamped that later;
  // the unchanged keep theirs (written = false). Sorted so that concurrent bulk writes lock
  // rows in one order.
  private static final String UPSERT_MANY =
      "with u as (select * from unnest(?::text[], ?::text[], ?::int[], ?::int[], ?::bytea[])"
      + " as u(t, i, head, body, digest)),\n"
      + SAME + ")," + """
      written as (
        insert into resource (res_type, res_id, version, last_updated, deleted)
        select t, i, 1, ?, false from u where not exists (select from same where same.t = u.t and same.i = u.i)
         order by t, i
        on conflict (res_type, res_id) do update
          set version = resource.version + 1,
              last_updated = greatest(excluded.last_updated, resource.last_updated + interval '1 millisecond'),
              deleted = false
        returning res_type, res_id, pk, version, last_updated)
      select res_type, res_id, pk, version, last_updated, true from written
      union all
      select t, i, pk, version, last_updated, false from same
      """;

  private static final String UPDATE_IF_MATCH =
      "with u as (select ?::text as t, ?::text as i, ?::int as head, ?::int as body, ?::bytea as digest,"
      + " ?::int as expected),\n"
      + SAME + " and r.version = u.expected)," + """
      written as (
        update resource
           set version = version + 1,
               last_updated = greatest(?, last_updated + interval '1 millisecond'),
               deleted = false
          from u
         where res_type = u.t and res_id = u.i and version = u.expected and not exists (select from same)
        returning pk, resource.version, last_updated)
      select pk, version, last_updated, true from written
      union all
      select pk, version, last_updated, false from same
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
        Row row = new Row(rs.getLong(1), rs.getInt(2), rs.getTimestamp(3), true);
        return storeVersion(type, id, row, resource, stamp(type, id, resource, json, false), true);
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
    if (ifMatch == null) {
      return putAll(List.of(new ResourcePut(type, id, resource, json, false))).getFirst();
    }
    Stamped stamped = stamp(type, id, resource, json, true);
    try (PreparedStatement ps = connection.prepareStatement(UPDATE_IF_MATCH)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setInt(3, stamped.head());
      ps.setInt(4, stamped.body());
      ps.setBytes(5, stamped.digest());
      ps.setInt(6, ifMatch);
      ps.setTimestamp(7, clock());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw FhirException.preconditionFailed(
              "If-Match version " + ifMatch + " does not match the current version of " + type + "/" + id);
        }
        Row row = new Row(rs.getLong(1), rs.getInt(2), rs.getTimestamp(3), rs.getBoolean(4));
        return row.written()
            ? storeVersion(type, id, row, resource, stamped, false)
            : unchanged(type, id, row, resource, stamped);
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
    int n = puts.size();
    String[] types = new String[n];
    String[] ids = new String[n];
    Integer[] heads = new Integer[n];
    Integer[] bodies = new Integer[n];
    byte[][] digests = new byte[n][];
    Stamped[] stamped = new Stamped[n];
    for (int i = 0; i < n; i++) {
      ResourcePut put = puts.get(i);
      types[i] = put.type();
      ids[i] = put.id();
      stamped[i] = stamp(put.type(), put.id(), put.resource(), put.json(), !put.mustBeNew());
      heads[i] = stamped[i].head();
      bodies[i] = stamped[i].body();
      digests[i] = stamped[i].digest();
    }
    Map<String, Row> rows = new HashMap<>(n * 2);
    try (PreparedStatement ps = connection.prepareStatement(UPSERT_MANY)) {
      ps.setArray(1, connection.createArrayOf("text", types));
      ps.setArray(2, connection.createArrayOf("text", ids));
      ps.setArray(3, connection.createArrayOf("int4", heads));
      ps.setArray(4, connection.createArrayOf("int4", bodies));
      ps.setArray(5, connection.createArrayOf("bytea", digests));
      ps.setTimestamp(6, clock());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          rows.put(rs.getString(1) + "/" + rs.getString(2),
              new Row(rs.getLong(3), rs.getInt(4), rs.getTimestamp(5), rs.getBoolean(6)));
        }
      }
    }
    List<StoredResource> stored = new ArrayList<>(n);
    try (PreparedStatement insert = connection.prepareStatement(INSERT_VERSION);
        PreparedStatement close = connection.prepareStatement(CLOSE_PREVIOUS)) {
      boolean inserting = false;
      boolean closing = false;
      for (int i = 0; i < n; i++) {
        ResourcePut put = puts.get(i);
        Row row = rows.get(put.type() + "/" + put.id());
        if (!row.written()) {
          stored.add(unchanged(put.type(), put.id(), row, put.resource(), stamped[i]));
          continue;
        }
        if (put.mustBeNew() && row.version() != 1) {
          throw FhirException.conflict("Generated id " + put.id() + " collides with an existing resource");
        }
        byte[] content = content(put.type(), put.id(), row, put.resource(), stamped[i]);
        bindVersion(insert, row.pk(), row.version(), put.type(), put.id(), row.at(), false, content);
        insert.addBatch();
        inserting = true;
        if (row.version() > 1) {
          bindClose(close, row.pk(), row.version(), row.at());
          close.addBatch();
          closing = true;
        }
        index.replace(row.pk(), put.type(), put.resource());
        stored.add(new StoredResource(put.type(), put.id(), row.version(), row.at().toInstant(), false, content,
            row.version() == 1));
      }
      if (inserting) {
        insert.executeBatch();
      }
      if (closing) {
        close.executeBatch();
      }
    }
    return stored;
  }

  /**
   * A resource row as a write left it.
   *
   * @param written false when the content equalled the current version's, which was kept
   */
  private record Row(long pk, int version, Timestamp at, boolean written) {}

  /**
   * A resource's stored JSON stamped as version 1 at the transaction's clock, cut at its body
   * (see {@link StoredJson#bodyStart}), and the SHA-256 of that body.
   *
   * @param bodyStart -1 when the content has no body of ours (then it is not compared)
   * @param digest null when the content is not compared with the current version's
   */
  private record Stamped(byte[] content, int bodyStart, byte[] digest) {
    /** The head's length less the versionId's. */
    int head() {
      return bodyStart - 1;
    }

    int body() {
      return content.length - bodyStart;
    }
  }

  private Stamped stamp(String type, String id, IBaseResource resource, byte[] json, boolean compare)
      throws SQLException {
    String at = setMeta(id, 1, clock(), resource);
    byte[] content = json == null ? fhir.encodeJson(resource) : StoredJson.stamp(json, type, id, "1", at);
    int bodyStart = StoredJson.bodyStart(content, type, id, "1", at);
    return new Stamped(content, bodyStart, compare && bodyStart > 0 ? Sha256.digest(content, bodyStart) : null);
  }

  /** The stored JSON of the version a write made: the stamped content, re-stamped unless version 1 at the clock. */
  private byte[] content(String type, String id, Row row, IBaseResource resource, Stamped stamped)
      throws SQLException {
    if (row.version() == 1 && row.at().equals(clock())) {
      return stamped.content();
    }
    String at = setMeta(id, row.version(), row.at(), resource);
    return stamped.bodyStart() > 0
        ? StoredJson.restamp(stamped.content(), stamped.bodyStart(), type, id, Integer.toString(row.version()), at)
        : fhir.encodeJson(resource);
  }

  /** The current version, kept because the write's content equals it: its bytes are our head and the same body. */
  private StoredResource unchanged(String type, String id, Row row, IBaseResource resource, Stamped stamped) {
    String at = setMeta(id, row.version(), row.at(), resource);
    byte[] content = StoredJson.restamp(stamped.content(), stamped.bodyStart(), type, id,
        Integer.toString(row.version()), at);
    return new StoredResource(type, id, row.version(), row.at().toInstant(), false, content, false);
  }

  private StoredResource storeVersion(String type, String id, Row row, IBaseResource resource, Stamped stamped,
      boolean created) throws SQLException {
    byte[] content = content(type, id, row, resource, stamped);
    insertVersion(row.pk(), row.version(), type, id, row.at(), false, content);
    index.replace(row.pk(), type, resource);
    return new StoredResource(type, id, row.version(), row.at().toInstant(), false, content, created);
  }

  /** Sets id, versionId and lastUpdated on the model (the index reads it); returns lastUpdated as stored. */
  private static String setMeta(String id, int version, Timestamp at, IBaseResource resource) {
    Resource r4 = (Resource) resource;
    r4.setId(id);
    r4.getMeta().setVersionId(Integer.toString(version));
    InstantType lastUpdated = new InstantType(new Date(at.getTime()), TemporalPrecisionEnum.MILLI, UTC);
    r4.getMeta().setLastUpdatedElement(lastUpdated);
    return lastUpdated.getValueAsString();
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

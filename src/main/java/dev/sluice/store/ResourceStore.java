package dev.sluice.store;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads and writes resources and their versions: the {@code resource} and {@code resource_version} tables. */
public final class ResourceStore {
  private static final Logger log = LoggerFactory.getLogger(ResourceStore.class);

  /** A unit of work inside one write transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(WriteTransaction tx) throws SQLException;
  }

  private static final String READ =
      """
      select v.version, v.last_updated, v.deleted, v.content
        from resource r join resource_version v on v.pk = r.pk and v.version = r.version
       where r.res_type = ? and r.res_id = ?
      """;

  private static final String VREAD =
      """
      select v.version, v.last_updated, v.deleted, v.content
        from resource r join resource_version v on v.pk = r.pk
       where r.res_type = ? and r.res_id = ? and v.version = ?
      """;

  private static final String COUNT_TYPE =
      "select count(*) from resource where res_type = ? and not deleted";

  private final DataSource dataSource;
  private final FhirModel fhir;
  private final SearchIndexWriter indexer;

  public ResourceStore(DataSource dataSource, FhirModel fhir, SearchIndexWriter indexer) {
    this.dataSource = dataSource;
    this.fhir = fhir;
    this.indexer = indexer;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * Runs {@code work} in one transaction: all of it is stored, or (on any exception) none.
   */
  public <T> T write(Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        WriteTransaction tx = new WriteTransaction(c, fhir, indexer);
        T result = work.run(tx);
        tx.flush();
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw FhirException.internal("The database refused the write: " + e.getMessage(), e);
    }
  }

  /** What one unit of a batch gave: a value, or the FHIR error that rolled that unit back. */
  public record Outcome<T>(T value, FhirException error) {}

  /**
   * Runs each unit in its own savepoint of one transaction: a unit that fails is rolled back
   * alone and reported, the others commit together (FHIR batch semantics, one commit).
   */
  public <T> List<Outcome<T>> writeEach(List<Work<T>> units) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        WriteTransaction tx = new WriteTransaction(c, fhir, indexer);
        List<Outcome<T>> outcomes = new ArrayList<>(units.size());
        for (Work<T> unit : units) {
          var savepoint = c.setSavepoint();
          try {
            T value = unit.run(tx);
            tx.flush();
            c.releaseSavepoint(savepoint);
            outcomes.add(new Outcome<>(value, null));
          } catch (FhirException e) {
            c.rollback(savepoint);
            tx.discard();
            outcomes.add(new Outcome<>(null, e));
          }
        }
        c.commit();
        return outcomes;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw FhirException.internal("The database refused the batch: " + e.getMessage(), e);
    }
  }

  /**
   * Writes many resources with known ids in one transaction (FHIR batch semantics): first all
   * together with bulk statements; when any of them fails, again one by one in savepoints, so
   * that only the failing ones are rolled back and reported. Duplicate keys go one by one.
   */
  public List<Outcome<StoredResource>> writeBatch(List<ResourcePut> puts) {
    if (distinctKeys(puts)) {
      try {
        List<StoredResource> stored = write(tx -> tx.putAll(puts));
        return stored.stream().map(s -> new Outcome<>(s, (FhirException) null)).toList();
      } catch (FhirException e) {
        log.debug("Bulk write of {} resources failed ({}); writing them one by one", puts.size(), e.getMessage());
      }
    }
    List<Work<StoredResource>> units = new ArrayList<>(puts.size());
    for (ResourcePut put : puts) {
      units.add(tx -> tx.put(put));
    }
    return writeEach(units);
  }

  /**
   * Writes many resources with known ids all or nothing (FHIR transaction semantics), in bulk
   * when their keys are distinct.
   */
  public List<StoredResource> writeAll(List<ResourcePut> puts) {
    if (distinctKeys(puts)) {
      return write(tx -> tx.putAll(puts));
    }
    return write(tx -> {
      List<StoredResource> stored = new ArrayList<>(puts.size());
      for (ResourcePut put : puts) {
        stored.add(tx.put(put));
      }
      return stored;
    });
  }

  private static boolean distinctKeys(List<ResourcePut> puts) {
    Set<String> keys = new HashSet<>(puts.size() * 2);
    for (ResourcePut put : puts) {
      if (!keys.add(put.type() + "/" + put.id())) {
        return false;
      }
    }
    return true;
  }

  /** The current version, deleted or not; empty when the resource never existed. */
  public Optional<StoredResource> read(String type, String id) {
    return query(READ, ps -> {
      ps.setString(1, type);
      ps.setString(2, id);
    }, type, id);
  }

  public Optional<StoredResource> vread(String type, String id, int version) {
    return query(VREAD, ps -> {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setInt(3, version);
    }, type, id);
  }

  public long count(String type) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(COUNT_TYPE)) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw FhirException.internal("Counting " + type + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * One page of history, newest first.
   *
   * @param type null for system history
   * @param id null for type or system history
   * @param since only versions at or after this instant, or null
   * @param at only versions at or before this instant (FHIR {@code _at}-like upper bound), or null
   */
  public HistoryPage history(
      String type, String id, Instant since, Instant at, int count, HistoryCursor after) {
    StringBuilder sql =
        new StringBuilder("select v.pk, v.version, v.res_type, v.res_id, v.last_updated, v.deleted, v.content ")
            .append("from resource_version v ");
    List<Object> args = new ArrayList<>();
    List<String> where = new ArrayList<>();
    if (id != null) {
      sql.append("join resource r on r.pk = v.pk ");
      where.add("r.res_type = ? and r.res_id = ?");
      args.add(type);
      args.add(id);
    } else if (type != null) {
      where.add("v.res_type = ?");
      args.add(type);
    }
    if (since != null) {
      where.add("v.last_updated >= ?");
      args.add(Timestamp.from(since));
    }
    if (at != null) {
      where.add("v.last_updated <= ?");
      args.add(Timestamp.from(at));
    }
    if (after != null) {
      where.add("(v.last_updated, v.pk, v.version) < (?, ?, ?)");
      args.add(Timestamp.from(after.lastUpdated()));
      args.add(after.pk());
      args.add(after.version());
    }
    if (!where.isEmpty()) {
      sql.append("where ").append(String.join(" and ", where)).append(' ');
    }
    sql.append("order by v.last_updated desc, v.pk desc, v.version desc limit ?");
    args.add(count + 1);
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql.toString())) {
      for (int i = 0; i < args.size(); i++) {
        ps.setObject(i + 1, args.get(i));
      }
      List<HistoryPage.HistoryEntry> entries = new ArrayList<>();
      HistoryCursor next = null;
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          long pk = rs.getLong(1);
          int version = rs.getInt(2);
          Timestamp ts = rs.getTimestamp(5);
          if (entries.size() == count) {
            HistoryPage.HistoryEntry last = entries.getLast();
            next = new HistoryCursor(last.resource().lastUpdated(), last.pk(), last.resource().version());
            break;
          }
          entries.add(new HistoryPage.HistoryEntry(pk, new StoredResource(
              rs.getString(3), rs.getString(4), version, ts.toInstant(), rs.getBoolean(6), rs.getBytes(7), false)));
        }
      }
      return new HistoryPage(entries, next);
    } catch (SQLException e) {
      throw FhirException.internal("Reading history failed: " + e.getMessage(), e);
    }
  }

  @FunctionalInterface
  private interface Binder {
    void bind(PreparedStatement ps) throws SQLException;
  }

  private Optional<StoredResource> query(String sql, Binder binder, String type, String id) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      binder.bind(ps);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new StoredResource(
            type, id, rs.getInt(1), rs.getTimestamp(2).toInstant(), rs.getBoolean(3), rs.getBytes(4), false));
      }
    } catch (SQLException e) {
      throw FhirException.internal("Reading " + type + "/" + id + " failed: " + e.getMessage(), e);
    }
  }
}

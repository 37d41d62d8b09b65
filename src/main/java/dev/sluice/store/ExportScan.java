package dev.sluice.store;

import java.io.IOException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;
import com.zaxxer.hikari.HikariDataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyOut;

/**
 * The reads of an export: type statistics for planning, and the scans of one part. A part's
 * resources are read with {@code COPY (select content ...) TO STDOUT (FORMAT binary)}: the
 * stored bytes arrive one row per message, unescaped, so memory holds one resource at a
 * time whatever its size, and nothing is parsed.
 *
 * <p>Patient compartment membership ({@code compartment}) is that of each resource's
 * <em>current</em> version. A scan that selects by membership trusts the table only for the
 * resources whose version current at transactionTime is still current; the versions replaced
 * after it (updated, moved or deleted since: the changes between kick-off and scan, few unless
 * {@code _until} is far in the past) are all streamed too, flagged, for the caller to judge
 * from their content. Both come from one statement, so from one snapshot: a resource changed
 * while the part runs is streamed once.
 */
public final class ExportScan {
  /** Which resources of the scanned type a part keeps. */
  public enum Membership {
    /** every resource (system level) */
    ALL,
    /** resources in any Patient compartment (Patient level) */
    ANY_COMPARTMENT,
    /** resources in the compartment of one of the job's export_member patients */
    MEMBERS
  }

  /** What one part reads: the versions of one type in a pk range current at {@code at}. */
  public record ResourceScan(
      UUID jobId, String type, long pkFrom, long pkTo, Instant at, Instant since, Membership membership,
      List<SqlCondition> anyOf) {
    public ResourceScan {
      anyOf = List.copyOf(anyOf);
    }
  }

  /**
   * Receives each row's bytes; valid only during the call. {@code replaced}: the version was
   * replaced after transactionTime and the scan selects by membership, so whether it was in
   * the compartments asked for is not known: the sink judges it from the content. Always false
   * for {@link Membership#ALL}.
   */
  @FunctionalInterface
  public interface RowSink {
    void row(byte[] buffer, int offset, int length, boolean replaced) throws IOException;
  }

  /** Receives each deletion: type, id, and the content of the version before it (when asked). */
  @FunctionalInterface
  public interface DeletionSink {
    void deleted(String type, String id, byte[] previous) throws IOException;
  }

  /** One type's rows in {@code resource} (current, whatever their state), for planning. */
  public record TypeStats(String type, long count, long minPk, long maxPk) {}

  private static final String TYPE_STATS =
      "select res_type, count(*), min(pk), max(pk) from resource where res_type = any(?) group by res_type order by 1";

  private static final String READ_AT =
      """
      select deleted, content from resource_version
       where res_type = ? and res_id = ? and last_updated <= ? and (valid_to is null or valid_to > ?)
      """;

  private static final String DELETIONS =
      """
      select v.res_type, v.res_id, %s from resource_version v
       where v.deleted and v.last_updated > ? and v.last_updated <= ? and (v.valid_to is null or v.valid_to > ?)
         and v.res_type = any(?)
       order by v.last_updated, v.pk
      """;
  private static final String PREVIOUS_CONTENT =
      "(select p.content from resource_version p where p.pk = v.pk and p.version = v.version - 1)";

  private final DataSource dataSource;
  private final int deletionFetchSize;

  public ExportScan(DataSource dataSource, int deletionFetchSize) {
    this.dataSource = dataSource;
    this.deletionFetchSize = deletionFetchSize;
  }

  public List<TypeStats> typeStats(Collection<String> types) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(TYPE_STATS)) {
      ps.setArray(1, c.createArrayOf("text", types.toArray()));
      List<TypeStats> stats = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          stats.add(new TypeStats(rs.getString(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)));
        }
      }
      return stats;
    }
  }

  /** The content of the version of a resource current at {@code at}; empty when none or deleted. */
  public Optional<byte[]> readAt(String type, String id, Instant at) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(READ_AT)) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setTimestamp(3, Timestamp.from(at));
      ps.setTimestamp(4, Timestamp.from(at));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getBoolean(1)) {
          return Optional.empty();
        }
        return Optional.of(rs.getBytes(2));
      }
    }
  }

  /** A connection held for the scans of one part, which another thread may cancel. */
  public Session open() throws SQLException {
    return new Session(dataSource.getConnection());
  }

  /** One part's connection. {@link #cancel} may be called from any thread. */
  public final class Session implements AutoCloseable {
    private final Connection connection;
    private boolean poisoned;

    private Session(Connection connection) {
      this.connection = connection;
    }

    /** Stops the statement running on this session; the scan then throws. */
    public void cancel() {
      try {
        connection.unwrap(PGConnection.class).cancelQuery();
      } catch (SQLException e) {
        // best effort: the scan also stops at its next check of the lease
      }
    }

    /** @return the number of rows written to the sink */
    public long scan(ResourceScan s, RowSink sink) throws SQLException, IOException {
      CopyOut copy = connection.unwrap(PGConnection.class).getCopyAPI()
          .copyOut("copy (" + sql(s) + ") to stdout (format binary)");
      long rows = 0;
      try {
        boolean header = true;
        byte[] message;
        while ((message = copy.readFromCopy()) != null) {
          int p = 0;
          if (header) {
            // signature (11 bytes), flags (4), header extension length (4) and extension
            p = 15;
            p += 4 + int32(message, p);
            header = false;
          }
          while (p < message.length) {
            int fields = (short) (((message[p] & 0xff) << 8) | (message[p + 1] & 0xff));
            p += 2;
            if (fields == -1) {
              break;
            }
            // two fields: content (never null: deletions are not selected), replaced (boolean, one byte)
            int length = int32(message, p);
            int content = p + 4;
            p = content + Math.max(length, 0);
            boolean replaced = int32(message, p) == 1 && message[p + 4] != 0;
            p += 4 + Math.max(int32(message, p), 0);
            if (length >= 0) {
              sink.row(message, content, length, replaced);
              rows++;
            }
          }
        }
      } finally {
        if (copy.isActive()) {
          // The sink failed part-way. A cancelled COPY OUT can leave the protocol out of step
          // (and the cancel request, sent on another socket, can hit the next statement), so
          // the connection must not go back to the pool: close() evicts it.
          poisoned = true;
          try {
            copy.cancelCopy();
          } catch (SQLException e) {
            // the sink's exception is the one to report; the connection is evicted anyway
          }
        }
      }
      return rows;
    }

    /** Streams the deletions in {@code (since, at]} of the given types, oldest first. */
    public void deletions(Instant since, Instant at, Collection<String> types, boolean withPrevious, DeletionSink sink)
        throws SQLException, IOException {
      boolean autoCommit = connection.getAutoCommit();
      // a cursor streams only inside a transaction
      connection.setAutoCommit(false);
      try (PreparedStatement ps = connection.prepareStatement(
          DELETIONS.formatted(withPrevious ? PREVIOUS_CONTENT : "null::bytea"))) {
        ps.setFetchSize(deletionFetchSize);
        ps.setTimestamp(1, Timestamp.from(since));
        ps.setTimestamp(2, Timestamp.from(at));
        ps.setTimestamp(3, Timestamp.from(at));
        Array array = connection.createArrayOf("text", types.toArray());
        ps.setArray(4, array);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sink.deleted(rs.getString(1), rs.getString(2), rs.getBytes(3));
          }
        }
        connection.commit();
      } finally {
        connection.rollback();
        connection.setAutoCommit(autoCommit);
      }
    }

    @Override
    public void close() throws SQLException {
      if (poisoned && dataSource.isWrapperFor(HikariDataSource.class)) {
        dataSource.unwrap(HikariDataSource.class).evictConnection(connection);
        return;
      }
      connection.close();
    }
  }

  private static int int32(byte[] b, int p) {
    return ((b[p] & 0xff) << 24) | ((b[p + 1] & 0xff) << 16) | ((b[p + 2] & 0xff) << 8) | (b[p + 3] & 0xff);
  }

  /**
   * The part's query; every value in it is typed by this server (see {@link CopyLiteral}).
   * Columns: content, replaced. With a membership condition it is the union of the versions
   * still current, selected through {@code compartment}, and the versions replaced after
   * {@code at}, flagged, found from the versions stamped after {@code at} (their successors,
   * through an index on {@code last_updated}), so that branch costs in proportion to the
   * changes since {@code at}, not to the part.
   */
  static String sql(ResourceScan s) {
    if (!s.type().matches("[A-Za-z]{1,64}")) {
      throw new IllegalArgumentException("not a resource type: " + s.type());
    }
    String current = "select v.content, false from resource_version v where v.res_type = " + CopyLiteral.of(s.type())
        + " and v.pk between " + s.pkFrom() + " and " + s.pkTo() + versionAt(s);
    String replaced = " union all select v.content, true from resource_version n"
        + " join resource_version v on v.pk = n.pk and v.version = n.version - 1"
        + " where n.res_type = " + CopyLiteral.of(s.type()) + " and n.last_updated > " + CopyLiteral.of(s.at())
        + " and n.pk between " + s.pkFrom() + " and " + s.pkTo() + versionAt(s);
    return switch (s.membership()) {
      case ALL -> current;
      case ANY_COMPARTMENT -> current
          + " and v.valid_to is null and exists (select 1 from compartment c where c.res_pk = v.pk)" + replaced;
      case MEMBERS -> current
          + " and v.valid_to is null and exists (select 1 from compartment c join export_member m on m.patient_id = c.patient_id"
          + " where m.job_id = " + CopyLiteral.of(s.jobId()) + " and c.res_pk = v.pk)" + replaced;
    };
  }

  /** Conditions on {@code v}: current at {@code at}, not a deletion, after {@code since}, through {@code anyOf}. */
  private static String versionAt(ResourceScan s) {
    StringBuilder q = new StringBuilder()
        .append(" and v.last_updated <= ").append(CopyLiteral.of(s.at()))
        .append(" and (v.valid_to is null or v.valid_to > ").append(CopyLiteral.of(s.at())).append(')')
        .append(" and not v.deleted");
    if (s.since() != null) {
      q.append(" and v.last_updated > ").append(CopyLiteral.of(s.since()));
    }
    if (!s.anyOf().isEmpty()) {
      // over the search index, which holds current versions: see docs/export.md
      q.append(" and (");
      for (int i = 0; i < s.anyOf().size(); i++) {
        SqlCondition c = s.anyOf().get(i);
        q.append(i == 0 ? "" : " or ").append('(').append(CopyLiteral.inline(c.sql(), c.params())).append(')');
      }
      q.append(')');
    }
    return q.toString();
  }
}

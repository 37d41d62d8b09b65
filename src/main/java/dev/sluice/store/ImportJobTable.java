package dev.sluice.store;

import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The {@code import_job}, {@code import_part}, {@code import_count} and {@code import_error}
 * tables: import jobs, their parts (one per input) under leases, and what each part imported
 * or refused.
 */
public final class ImportJobTable {
  private static final String INSERT_JOB =
      "insert into import_job (id, client, mode, request_url, status, stage) values (?, ?, ?, ?, 'running', ?)";
  private static final String INSERT_PART =
      "insert into import_part (job_id, part_no, input_url, location, res_type) values (?, ?, ?, ?, ?)";

  // Oldest job first; a part whose lease lapsed (its process died) is taken over.
  private static final String CLAIM =
      """
      update import_part p set status = 'running', owner = ?, lease_until = now() + ?::interval, attempt = attempt + 1
       where (p.job_id, p.part_no) = (
         select p2.job_id, p2.part_no from import_part p2 join import_job j on j.id = p2.job_id
          where j.status = 'running'
            and (p2.status = 'pending' or (p2.status = 'running' and p2.lease_until < now()))
          order by j.created_at, p2.part_no
          limit 1 for update of p2 skip locked)
      returning p.job_id, p.part_no, p.input_url, p.location, p.res_type, p.attempt, p.next_line,
                (select mode from import_job j where j.id = p.job_id), (select stage from import_job j where j.id = p.job_id)
      """;

  // The start of every batch: renews the lease and locks the part's row until the batch ends, so
  // that no claim (whose pick skips locked rows) takes the part from a worker that is alive but
  // slow (a lock wait, a slow disk): a lapse then means a dead process, and costs an attempt.
  private static final String HOLD =
      """
      update import_part set lease_until = now() + ?::interval
       where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'
         and exists (select 1 from import_job j where j.id = import_part.job_id and j.status = 'running')
      """;

  // The fence of every batch: it moves the checkpoint and renews the lease only while the part
  // is still this attempt's and the job still runs; zero rows and the batch is rolled back.
  private static final String CHECKPOINT =
      """
      update import_part set next_line = ?, imported = imported + ?, errors = errors + ?,
                             lease_until = now() + ?::interval
       where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'
         and exists (select 1 from import_job j where j.id = import_part.job_id and j.status = 'running')
      """;


  private static final String FINISH =
      "update import_part set status = 'done', lease_until = null"
          + " where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'";

  private static final String RELEASE =
      "update import_part set status = 'pending', owner = null, lease_until = null"
          + " where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'";

  // Finishing parts take the job row's lock first: two last parts finishing at once would each
  // see the other still running and neither would complete the job.
  private static final String LOCK_JOB = "select 1 from import_job where id = ? for update";

  // A job with staging tables (InitialLoad) is merged before it is completed.
  private static final String COMPLETE_IF_DONE =
      """
      update import_job set status = case when stage is null then 'completed' else 'merging' end,
                            finished_at = case when stage is null then now() end,
                            expires_at = case when stage is null then now() + ?::interval end
       where id = ? and status = 'running'
         and not exists (select 1 from import_part p where p.job_id = import_job.id and p.status <> 'done')
      """;

  private static final String COUNT =
      """
      insert into import_count (job_id, part_no, res_type, count) values (?, ?, ?, ?)
      on conflict (job_id, part_no, res_type) do update set count = import_count.count + excluded.count
      """;

  private static final String ERROR =
      "insert into import_error (job_id, part_no, line, outcome) values (?, ?, ?, ?) on conflict do nothing";

  private static final String FIND =
      "select client, mode, request_url, status, transaction_time, error_text, expires_at from import_job where id = ?";

  private static final String PARTS =
      "select part_no, input_url, res_type, status, imported, errors from import_part where job_id = ? order by part_no";

  private static final String COUNTS =
      "select part_no, res_type, count from import_count where job_id = ? order by part_no, res_type";

  private static final String ERRORS =
      "select outcome from import_error where job_id = ? and part_no = ? order by line";

  // a cancelled job stays one lease long, so that its running batches meet the fence, not a missing row
  private static final String CANCEL =
      "update import_job set status = 'cancelled', finished_at = now(), expires_at = now() + ?::interval"
          + " where id = ? and status in ('running', 'merging')";

  private static final String FAIL =
      "update import_job set status = 'failed', finished_at = now(), expires_at = now() + ?::interval, error_text = ?"
          + " where id = ? and status in ('running', 'merging')";

  // The oldest job waiting for its merge whose merge is not under a live lease. A merge in
  // progress holds the job row's lock, so skip locked passes it by even after its lease.
  private static final String CLAIM_MERGE =
      """
      update import_job set merge_owner = ?, merge_lease_until = now() + ?::interval, merge_attempt = merge_attempt + 1
       where id = (select id from import_job
                    where status = 'merging' and (merge_lease_until is null or merge_lease_until < now())
                    order by created_at limit 1 for update skip locked)
      returning id, stage, merge_attempt
      """;

  // A cancelled or failed job whose staging tables are still there.
  private static final String CLAIM_LEFTOVER =
      """
      select id, stage from import_job where stage is not null and status in ('cancelled', 'failed')
       order by created_at limit 1 for update skip locked
      """;

  // parts, counts and error files go with the job (on delete cascade); a job's staging tables
  // are dropped first (dropLeftoverStage), or nothing would name them any more
  private static final String REMOVE_EXPIRED =
      """
      delete from import_job where id in (
        select id from import_job where expires_at < now() and stage is null order by expires_at limit ?
           for update skip locked)
      returning id
      """;

  private static final String TYPE_HAS_RESOURCES =
      "select exists (select 1 from resource where res_type = ?)";

  private final DataSource dataSource;

  public ImportJobTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** One input of a new job. */
  public record NewPart(String inputUrl, String location, String type) {}

  /** A part claimed by this process: read {@code location} from {@code nextLine} on. */
  public record ClaimedPart(UUID jobId, int partNo, String inputUrl, String location, String type, int attempt,
      long nextLine, String mode, String stage) {
    /** Where the part's batches go: its job's staging tables (InitialLoad), or the live ones. */
    public WriteTables tables() {
      return stage == null ? WriteTables.LIVE : new WriteTables(stage);
    }
  }

  /** A job whose inputs are all staged, claimed for its merge. */
  public record ClaimedMerge(UUID jobId, WriteTables tables, int attempt) {}

  /** A job as its status shows it. */
  /** @param expires when the job and its error files are removed; null while it runs */
  public record JobRow(UUID id, String client, String mode, String requestUrl, String status, Instant transactionTime,
      String error, Instant expires) {}

  /** A part as its status shows it. */
  public record PartRow(int partNo, String inputUrl, String type, String status, long imported, long errors) {}

  /** Resources of one type imported from one part. */
  public record CountRow(int partNo, String type, long count) {}

  /** Inserts a job and its parts in one transaction. */
  public void insert(UUID id, String client, String mode, String requestUrl, List<NewPart> parts) throws SQLException {
    insert(id, client, mode, requestUrl, parts, false);
  }

  /** @param staged true for InitialLoad: the job's staging tables are made in the same transaction */
  public void insert(UUID id, String client, String mode, String requestUrl, List<NewPart> parts, boolean staged)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement(INSERT_JOB)) {
          ps.setObject(1, id);
          ps.setString(2, client);
          ps.setString(3, mode);
          ps.setString(4, requestUrl);
          ps.setString(5, staged ? WriteTables.stage(id).prefix() : null);
          ps.executeUpdate();
        }
        if (staged) {
          InitialLoadStage.create(c, WriteTables.stage(id));
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_PART)) {
          int no = 0;
          for (NewPart p : parts) {
            ps.setObject(1, id);
            ps.setInt(2, ++no);
            ps.setString(3, p.inputUrl());
            ps.setString(4, p.location());
            ps.setString(5, p.type());
            ps.addBatch();
          }
          ps.executeBatch();
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  public Optional<ClaimedPart> claim(String owner, Duration lease) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CLAIM)) {
      ps.setString(1, owner);
      ps.setString(2, lease.toMillis() + " milliseconds");
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new ClaimedPart(rs.getObject(1, UUID.class), rs.getInt(2), rs.getString(3), rs.getString(4),
            rs.getString(5), rs.getInt(6), rs.getLong(7), rs.getString(8), rs.getString(9)));
      }
    }
  }

  /**
   * First in a batch's transaction: renews the lease and holds the part's row until the
   * transaction ends.
   *
   * @return false when the part is no longer this attempt's or the job no longer runs: roll back
   */
  static boolean hold(Connection c, ClaimedPart part, String owner, Duration lease) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(HOLD)) {
      ps.setString(1, lease.toMillis() + " milliseconds");
      ps.setObject(2, part.jobId());
      ps.setInt(3, part.partNo());
      ps.setString(4, owner);
      ps.setInt(5, part.attempt());
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Inside a batch's transaction: moves the part's checkpoint past the batch, adds its counts
   * and writes its errors.
   *
   * @return false when the part is no longer this attempt's or the job no longer runs: roll back
   */
  static boolean checkpoint(Connection c, ClaimedPart part, String owner, Duration lease, long nextLine,
      long imported, List<ImportedCount> counts, List<LineError> errors) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(CHECKPOINT)) {
      ps.setLong(1, nextLine);
      ps.setLong(2, imported);
      ps.setLong(3, errors.size());
      ps.setString(4, lease.toMillis() + " milliseconds");
      ps.setObject(5, part.jobId());
      ps.setInt(6, part.partNo());
      ps.setString(7, owner);
      ps.setInt(8, part.attempt());
      if (ps.executeUpdate() != 1) {
        return false;
      }
    }
    if (!counts.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(COUNT)) {
        for (ImportedCount n : counts) {
          ps.setObject(1, part.jobId());
          ps.setInt(2, part.partNo());
          ps.setString(3, n.type());
          ps.setLong(4, n.count());
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    if (!errors.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(ERROR)) {
        for (LineError e : errors) {
          ps.setObject(1, part.jobId());
          ps.setInt(2, part.partNo());
          ps.setLong(3, e.line());
          ps.setBytes(4, e.outcome());
          ps.addBatch();
        }
        ps.executeBatch();
      }
    }
    return true;
  }

  /** Resources of one type a batch imported. */
  public record ImportedCount(String type, long count) {}

  /** One refused line, as the OperationOutcome of the error file; line 0 is the input as a whole. */
  public record LineError(long line, byte[] outcome) {}

  /** A checkpoint with no resources: errors only (an unreadable input), in its own transaction. */
  public boolean checkpoint(ClaimedPart part, String owner, Duration lease, long nextLine, List<LineError> errors)
      throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        boolean ours = checkpoint(c, part, owner, lease, nextLine, 0, List.of(), errors);
        if (ours) {
          c.commit();
        } else {
          c.rollback();
        }
        return ours;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /**
   * Marks the part done, and the job completed when it was its last open part.
   *
   * @param retention how long the completed job stays
   */
  public boolean finish(ClaimedPart part, String owner, Duration retention) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        int n;
        try (PreparedStatement ps = c.prepareStatement(LOCK_JOB)) {
          ps.setObject(1, part.jobId());
          ps.executeQuery().close();
        }
        try (PreparedStatement ps = c.prepareStatement(FINISH)) {
          ps.setObject(1, part.jobId());
          ps.setInt(2, part.partNo());
          ps.setString(3, owner);
          ps.setInt(4, part.attempt());
          n = ps.executeUpdate();
        }
        if (n == 1) {
          try (PreparedStatement ps = c.prepareStatement(COMPLETE_IF_DONE)) {
            ps.setString(1, retention.toMillis() + " milliseconds");
            ps.setObject(2, part.jobId());
            ps.executeUpdate();
          }
        }
        c.commit();
        return n == 1;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Gives a part back (this process stops), so that another claim takes it at once. */
  public void release(ClaimedPart part, String owner) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RELEASE)) {
      ps.setObject(1, part.jobId());
      ps.setInt(2, part.partNo());
      ps.setString(3, owner);
      ps.setInt(4, part.attempt());
      ps.executeUpdate();
    }
  }

  public Optional<JobRow> find(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FIND)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        Timestamp t = rs.getTimestamp(5);
        Timestamp expires = rs.getTimestamp(7);
        return Optional.of(new JobRow(id, rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
            t.toInstant(), rs.getString(6), expires == null ? null : expires.toInstant()));
      }
    }
  }

  public List<PartRow> parts(UUID id) throws SQLException {
    List<PartRow> parts = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(PARTS)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          parts.add(new PartRow(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
              rs.getLong(6)));
        }
      }
    }
    return parts;
  }

  public List<CountRow> counts(UUID id) throws SQLException {
    List<CountRow> counts = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(COUNTS)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          counts.add(new CountRow(rs.getInt(1), rs.getString(2), rs.getLong(3)));
        }
      }
    }
    return counts;
  }

  /** Streams a part's error file, one OperationOutcome per line, in line order. */
  public void writeErrors(UUID id, int partNo, OutputStream out) throws SQLException, IOException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(ERRORS)) {
        ps.setFetchSize(500);
        ps.setObject(1, id);
        ps.setInt(2, partNo);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.write(rs.getBytes(1));
            out.write('\n');
          }
        }
      } finally {
        c.rollback();
      }
    }
  }

  public Optional<ClaimedMerge> claimMerge(String owner, Duration lease) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CLAIM_MERGE)) {
      ps.setString(1, owner);
      ps.setString(2, lease.toMillis() + " milliseconds");
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        return Optional.of(new ClaimedMerge(rs.getObject(1, UUID.class), new WriteTables(rs.getString(2)), rs.getInt(3)));
      }
    }
  }

  /**
   * Drops the staging tables of one cancelled or failed job, if any is left.
   *
   * @return the job whose tables were dropped
   */
  public Optional<UUID> dropLeftoverStage() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        UUID id;
        String stage;
        try (PreparedStatement ps = c.prepareStatement(CLAIM_LEFTOVER); ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            c.rollback();
            return Optional.empty();
          }
          id = rs.getObject(1, UUID.class);
          stage = rs.getString(2);
        }
        InitialLoadStage.drop(c, new WriteTables(stage));
        try (PreparedStatement ps = c.prepareStatement("update import_job set stage = null where id = ?")) {
          ps.setObject(1, id);
          ps.executeUpdate();
        }
        c.commit();
        return Optional.of(id);
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** @param lease how long the cancelled job stays (its running batches stop at their fence meanwhile) */
  public boolean cancel(UUID id, Duration lease) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CANCEL)) {
      ps.setString(1, lease.toMillis() + " milliseconds");
      ps.setObject(2, id);
      return ps.executeUpdate() == 1;
    }
  }

  /** @param retention how long the failed job stays */
  public void fail(UUID id, String reason, Duration retention) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FAIL)) {
      ps.setString(1, retention.toMillis() + " milliseconds");
      ps.setString(2, reason);
      ps.setObject(3, id);
      ps.executeUpdate();
    }
  }

  /** Removes up to {@code limit} jobs whose expiry passed, with their parts, counts and error files. */
  public List<UUID> removeExpired(int limit) throws SQLException {
    List<UUID> removed = new ArrayList<>();
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(REMOVE_EXPIRED)) {
      ps.setInt(1, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          removed.add(rs.getObject(1, UUID.class));
        }
      }
    }
    return removed;
  }

  /** Whether any resource of the type was ever stored (deleted ones count: their history is there). */
  public boolean hasResources(String type) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(TYPE_HAS_RESOURCES)) {
      ps.setString(1, type);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }
}

package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/** The {@code export_job} table: one row per export, from kick-off until its files expire. */
public final class ExportJobTable {
  private static final String COLUMNS =
      "id, client, request_key, request_url, request, status, transaction_time, wait_xids, container,"
          + " created_at, finished_at, expires_at, error_status, error_text, error_code, plan_attempts";

  /**
   * The snapshot of a kick-off. The clock is read before the list of transactions that may
   * be in progress: a writer whose xid is not in that list reads its clock after ours. The
   * millisecond taken off covers writers that truncate the same millisecond (see
   * WriteTransaction), so every version stamped at or before T is either committed or listed.
   */
  private static final String CLOCK =
      "select date_trunc('milliseconds', clock_timestamp()) - interval '1 millisecond'";
  // A snapshot lists the running xids below its xmax only; xids from xmax up to the one this
  // statement is given may be running too (xmax is the latest completed xid + 1, not the next).
  private static final String IN_PROGRESS =
      """
      with s as (select pg_current_snapshot() as snap)
      select coalesce(string_agg(x::text, ','), '') from (
        select pg_snapshot_xip(snap) as x from s
        union
        select g::text::xid8 from s,
          generate_series(pg_snapshot_xmax(snap)::text::numeric, pg_current_xact_id()::text::numeric - 1) g
      ) t
      """;
  private static final String STILL_RUNNING =
      "select count(*) from unnest(string_to_array(?, ',')::xid8[]) x where pg_xact_status(x) = 'in progress'";

  private static final String INSERT =
      "insert into export_job (" + COLUMNS + ", anonymization_config)"
          + " values (?, ?, ?, ?, ?, 'queued', ?, ?, ?, now(), null, null, null, null, null, 0, ?)"
          + " on conflict (client, request_key) where status in ('queued', 'running') do nothing";

  private static final String FIND = "select " + COLUMNS + " from export_job where id = ?";

  private static final String ANONYMIZATION_CONFIG = "select anonymization_config from export_job where id = ?";

  private static final String FIND_ACTIVE =
      "select " + COLUMNS + " from export_job where client = ? and request_key = ? and status in ('queued', 'running')"
          + " order by created_at limit 1";

  // One promotion at a time across every process, so the running limit holds (advisory lock
  // released at commit). The claim's commit does not wait for its WAL flush (synchronous_commit
  // off for this transaction only): a claim lost in a crash of PostgreSQL leaves the job queued,
  // and the planner that held it is then fenced out where it matters (renewPlanning and start
  // name the owner), so another planner plans the job again; the first synchronous commit after
  // it (a worker's claim of a part) flushes it. Nothing is acknowledged to a client on the claim.
  private static final String PROMOTION_LOCK =
      "select pg_advisory_xact_lock(4242001), set_config('synchronous_commit', 'off', true)";
  private static final String COUNT_RUNNING = "select count(*) from export_job where status = 'running'";
  private static final String CLAIM_QUEUED =
      """
      update export_job set owner = ?, lease_until = now() + ?::interval
       where id = (select id from export_job
                    where status = 'queued' and (lease_until is null or lease_until < now())
                    order by created_at limit 1 for update skip locked)
      returning %s
      """.formatted(COLUMNS);

  private static final String RENEW_PLANNING =
      "update export_job set lease_until = now() + ?::interval where id = ? and owner = ? and status = 'queued'";

  private static final String START =
      "update export_job set status = 'running', owner = null, lease_until = null"
          + " where id = ? and owner = ? and status = 'queued'";

  private static final String LOCK = "select status from export_job where id = ? for update";

  private static final String COMPLETE_IF_DONE =
      """
      update export_job set status = 'completed', finished_at = now(), expires_at = now() + ?::interval
       where id = ? and status = 'running'
         and not exists (select 1 from export_part p where p.job_id = export_job.id and p.status <> 'done')
      """;

  private static final String RUNNING_WITHOUT_OPEN_PARTS =
      """
      select j.id from export_job j
       where j.status = 'running'
         and not exists (select 1 from export_part p where p.job_id = j.id and p.status <> 'done')
      """;

  private static final String FAIL =
      "update export_job set status = 'failed', finished_at = now(), expires_at = now() + ?::interval,"
          + " error_status = ?, error_text = ?, error_code = ?, owner = null, lease_until = null"
          + " where id = ? and status in ('queued', 'running')";

  // the planner gives the job back; no process plans it again before lease_until
  private static final String RETRY_PLANNING =
      "update export_job set plan_attempts = plan_attempts + 1, owner = null, lease_until = now() + ?::interval"
          + " where id = ? and owner = ? and status = 'queued' returning plan_attempts";

  private static final String CANCEL =
      "update export_job set status = 'cancelled', finished_at = now() where id = ? returning status";

  private static final String DELETE = "delete from export_job where id = ?";

  private static final String SUMMARY =
      """
      select (extract(epoch from j.finished_at - j.created_at) * 1000)::bigint,
             (select coalesce(sum(p.resources), 0) from export_part p where p.job_id = j.id and p.status = 'done'),
             (select coalesce(sum(p.bytes), 0) from export_part p where p.job_id = j.id and p.status = 'done'),
             (select count(*) from export_file f where f.job_id = j.id and f.state = 'done' and f.resources > 0)
        from export_job j where j.id = ?
      """;

  // newest first, keyset-paged on (created_at, id); progress from the parts, one index scan per job
  private static final String LIST =
      """
      select %s,
             (select count(*) from export_part p where p.job_id = j.id),
             (select count(*) from export_part p where p.job_id = j.id and p.status = 'done'),
             (select coalesce(sum(p.resources), 0) from export_part p where p.job_id = j.id and p.status = 'done')
        from export_job j
       where (?::timestamptz is null or (j.created_at, j.id) < (?::timestamptz, ?::uuid))
         and (?::text is null or j.client = ?)
       order by j.created_at desc, j.id desc
       limit ?
      """.formatted(COLUMNS.replaceAll("(^|, )", "$1j."));

  private static final String BY_STATE = "select status, count(*) from export_job group by status";

  // cancelled jobs stay one lease long, so that workers elsewhere notice and remove their files
  private static final String EXPIRED =
      "select " + COLUMNS + " from export_job where (status in ('completed', 'failed') and expires_at < now())"
          + " or (status = 'cancelled' and finished_at < now() - ?::interval) order by created_at limit ?";

  private final DataSource dataSource;

  public ExportJobTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** The time and the in-progress transactions of a kick-off. */
  public record Snapshot(Instant transactionTime, String inProgressXids) {}

  public Snapshot snapshot() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      Instant t;
      try (PreparedStatement ps = c.prepareStatement(CLOCK); ResultSet rs = ps.executeQuery()) {
        rs.next();
        t = rs.getTimestamp(1).toInstant();
      }
      try (PreparedStatement ps = c.prepareStatement(IN_PROGRESS); ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Snapshot(t, rs.getString(1));
      }
    }
  }

  /** How many of the listed transactions are still in progress. */
  public int stillRunning(String xids) throws SQLException {
    if (xids == null || xids.isEmpty()) {
      return 0;
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(STILL_RUNNING)) {
      ps.setString(1, xids);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** @return false when the same client already has this request queued or running */
  public boolean insert(ExportJobRow job) throws SQLException {
    return insert(job, null);
  }

  /**
   * @param anonymizationConfig the de-identification configuration validated at kick-off, or null
   * @return false when the same client already has this request queued or running
   */
  public boolean insert(ExportJobRow job, byte[] anonymizationConfig) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(INSERT)) {
      ps.setObject(1, job.id());
      ps.setString(2, job.client());
      ps.setString(3, job.requestKey());
      ps.setString(4, job.requestUrl());
      ps.setString(5, job.requestJson());
      ps.setTimestamp(6, Timestamp.from(job.transactionTime()));
      ps.setString(7, job.waitXids());
      ps.setString(8, job.container());
      ps.setBytes(9, anonymizationConfig);
      return ps.executeUpdate() == 1;
    }
  }

  /** The de-identification configuration stored at kick-off; empty when the job has none (or is gone). */
  public Optional<byte[]> anonymizationConfig(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(ANONYMIZATION_CONFIG)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.ofNullable(rs.getBytes(1)) : Optional.empty();
      }
    }
  }

  public Optional<ExportJobRow> find(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FIND)) {
      ps.setObject(1, id);
      return one(ps);
    }
  }

  /** The queued or running job of this client for this request, if any. */
  public Optional<ExportJobRow> findActive(String client, String requestKey) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FIND_ACTIVE)) {
      ps.setString(1, client);
      ps.setString(2, requestKey);
      return one(ps);
    }
  }

  /**
   * Takes the oldest queued job for planning when fewer than {@code maxRunning} jobs run.
   */
  public Optional<ExportJobRow> claimQueued(String owner, Duration lease, int maxRunning) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        try (PreparedStatement ps = c.prepareStatement(PROMOTION_LOCK)) {
          ps.execute();
        }
        long running;
        try (PreparedStatement ps = c.prepareStatement(COUNT_RUNNING); ResultSet rs = ps.executeQuery()) {
          rs.next();
          running = rs.getLong(1);
        }
        Optional<ExportJobRow> job = Optional.empty();
        if (running < maxRunning) {
          try (PreparedStatement ps = c.prepareStatement(CLAIM_QUEUED)) {
            ps.setString(1, owner);
            ps.setString(2, lease.toMillis() + " milliseconds");
            job = one(ps);
          }
        }
        c.commit();
        return job;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** @return false when the planning lease was lost (another process took over, or cancelled) */
  public boolean renewPlanning(UUID id, String owner, Duration lease) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RENEW_PLANNING)) {
      ps.setString(1, lease.toMillis() + " milliseconds");
      ps.setObject(2, id);
      ps.setString(3, owner);
      return ps.executeUpdate() == 1;
    }
  }

  /** Marks a planned job running, inside the planner's transaction. */
  static boolean start(Connection c, UUID id, String owner) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(START)) {
      ps.setObject(1, id);
      ps.setString(2, owner);
      return ps.executeUpdate() == 1;
    }
  }

  /** Locks the job row for the rest of the transaction; empty when it is gone. */
  static Optional<ExportJobStatus> lock(Connection c, UUID id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LOCK)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(ExportJobStatus.ofSql(rs.getString(1))) : Optional.empty();
      }
    }
  }

  static boolean completeIfDone(Connection c, UUID id, Duration retention) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(COMPLETE_IF_DONE)) {
      ps.setString(1, retention.toMillis() + " milliseconds");
      ps.setObject(2, id);
      return ps.executeUpdate() == 1;
    }
  }

  /** Completes a running job whose parts are all done (after a crash between the two). */
  public List<UUID> runningWithoutOpenParts() throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RUNNING_WITHOUT_OPEN_PARTS);
        ResultSet rs = ps.executeQuery()) {
      List<UUID> ids = new ArrayList<>();
      while (rs.next()) {
        ids.add(rs.getObject(1, UUID.class));
      }
      return ids;
    }
  }

  public boolean completeIfDone(UUID id, Duration retention) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        lock(c, id);
        boolean done = completeIfDone(c, id, retention);
        c.commit();
        return done;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /**
   * @param code the stable code of {@code text} (SLUICE-nnnn)
   * @return false when the job had ended already
   */
  public boolean fail(UUID id, int status, String code, String text, Duration retention) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(FAIL)) {
      ps.setString(1, retention.toMillis() + " milliseconds");
      ps.setInt(2, status);
      ps.setString(3, text);
      ps.setString(4, code);
      ps.setObject(5, id);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Gives a job whose planning failed back to the queue, to be planned again after {@code wait}.
   *
   * @return the failed planning attempts so far; empty when the job was no longer this planner's
   */
  public Optional<Integer> retryPlanning(UUID id, String owner, Duration wait) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RETRY_PLANNING)) {
      ps.setString(1, wait.toMillis() + " milliseconds");
      ps.setObject(2, id);
      ps.setString(3, owner);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getInt(1)) : Optional.empty();
      }
    }
  }

  /** Marks the job cancelled, whatever its state; workers see it at their next lease renewal. */
  public boolean cancel(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CANCEL)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** What a job did: from kick-off to its end (null while it runs), and what its finished parts wrote. */
  public record Summary(Duration took, long resources, long bytes, long files) {}

  public Summary summary(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SUMMARY)) {
      ps.setObject(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new Summary(null, 0, 0, 0);
        }
        long millis = rs.getLong(1);
        return new Summary(rs.wasNull() ? null : Duration.ofMillis(millis), rs.getLong(2), rs.getLong(3), rs.getLong(4));
      }
    }
  }

  /** A job as the list of jobs shows it: its row and its parts' progress. */
  public record Listed(ExportJobRow job, long parts, long partsDone, long resources) {}

  /**
   * One page of jobs, newest first.
   *
   * @param after the {@code created_at} and id of the last job of the previous page; null for the first page
   * @param client only this client's jobs; null for every job
   */
  public List<Listed> list(Instant afterCreated, UUID afterId, String client, int limit) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(LIST)) {
      Timestamp t = afterCreated == null ? null : Timestamp.from(afterCreated);
      ps.setTimestamp(1, t);
      ps.setTimestamp(2, t);
      ps.setObject(3, afterId);
      ps.setString(4, client);
      ps.setString(5, client);
      ps.setInt(6, limit);
      List<Listed> jobs = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          jobs.add(new Listed(row(rs), rs.getLong(17), rs.getLong(18), rs.getLong(19)));
        }
      }
      return jobs;
    }
  }

  /** How many jobs are in each state (every state, 0 when none). */
  public Map<ExportJobStatus, Long> countByState() throws SQLException {
    Map<ExportJobStatus, Long> counts = new EnumMap<>(ExportJobStatus.class);
    for (ExportJobStatus s : ExportJobStatus.values()) {
      counts.put(s, 0L);
    }
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(BY_STATE);
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        counts.put(ExportJobStatus.ofSql(rs.getString(1)), rs.getLong(2));
      }
    }
    return counts;
  }

  public void delete(UUID id) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(DELETE)) {
      ps.setObject(1, id);
      ps.executeUpdate();
    }
  }

  /** Jobs whose files are due for removal: expired, or cancelled. */
  public List<ExportJobRow> expired(Duration cancelGrace, int limit) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(EXPIRED)) {
      ps.setString(1, cancelGrace.toMillis() + " milliseconds");
      ps.setInt(2, limit);
      List<ExportJobRow> jobs = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          jobs.add(row(rs));
        }
      }
      return jobs;
    }
  }

  private static Optional<ExportJobRow> one(PreparedStatement ps) throws SQLException {
    try (ResultSet rs = ps.executeQuery()) {
      return rs.next() ? Optional.of(row(rs)) : Optional.empty();
    }
  }

  private static ExportJobRow row(ResultSet rs) throws SQLException {
    return row(rs, 0);
  }

  /** {@link #COLUMNS} of {@code alias}, for a statement that reads a job's row beside others. */
  static String columns(String alias) {
    return Arrays.stream(COLUMNS.split(",")).map(c -> alias + "." + c.trim()).collect(Collectors.joining(", "));
  }

  /** A job's row from {@link #COLUMNS} (or {@link #columns}) after the first {@code before} columns. */
  static ExportJobRow row(ResultSet rs, int before) throws SQLException {
    int o = before;
    int status = rs.getInt(o + 13);
    // wasNull speaks of the column read last, so it is asked right after this one
    Integer errorStatus = rs.wasNull() ? null : status;
    return new ExportJobRow(
        rs.getObject(o + 1, UUID.class), rs.getString(o + 2), rs.getString(o + 3), rs.getString(o + 4),
        rs.getString(o + 5), ExportJobStatus.ofSql(rs.getString(o + 6)), instant(rs.getTimestamp(o + 7)),
        rs.getString(o + 8), rs.getString(o + 9), instant(rs.getTimestamp(o + 10)), instant(rs.getTimestamp(o + 11)),
        instant(rs.getTimestamp(o + 12)), errorStatus, rs.getString(o + 14), rs.getString(o + 15),
        rs.getInt(o + 16));
  }

  private static Instant instant(Timestamp ts) {
    return ts == null ? null : ts.toInstant();
  }
}

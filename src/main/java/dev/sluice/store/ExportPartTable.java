package dev.sluice.store;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/** The {@code export_part} table: the units of work of running export jobs, under leases. */
public final class ExportPartTable {
  private static final String INSERT =
      "insert into export_part (job_id, part_no, kind, res_type, pk_from, pk_to, patient_after, patient_to, res_types)"
          + " values (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  /** This transaction's commit does not wait for its WAL flush; the session's setting is untouched. */
  private static final String ASYNC_COMMIT = "select set_config('synchronous_commit', 'off', true)";
  private static final String INSERT_MEMBER =
      "insert into export_member (job_id, patient_id) values (?, ?) on conflict do nothing";

  // Oldest job first, so one export finishes before the next one takes the workers. The job's
  // row comes with the part, read in the same statement: a worker needs it for every part, and a
  // read of its own was one more round trip before the part's first row.
  private static final String CLAIM =
      """
      with claimed as (
        update export_part p set status = 'running', owner = ?, lease_until = now() + ?::interval, attempt = attempt + 1
         where (p.job_id, p.part_no) = (
           select p2.job_id, p2.part_no from export_part p2 join export_job j on j.id = p2.job_id
            where j.status = 'running'
              and ((p2.status = 'pending' and (p2.lease_until is null or p2.lease_until < now()))
                   or (p2.status = 'running' and p2.lease_until < now()))
            order by j.created_at, p2.part_no
            limit 1 for update of p2 skip locked)
        returning p.job_id, p.part_no, p.kind, p.res_type, p.pk_from, p.pk_to, p.attempt, p.outages,
                  p.patient_after, p.patient_to, p.res_types)
      select c.job_id, c.part_no, c.kind, c.res_type, c.pk_from, c.pk_to, c.attempt, c.outages,
             c.patient_after, c.patient_to, c.res_types, %s
        from claimed c join export_job j on j.id = c.job_id
      """.formatted(ExportJobTable.columns("j"));

  private static final String RENEW =
      """
      update export_part set lease_until = now() + ?::interval
       where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'
         and exists (select 1 from export_job j where j.id = export_part.job_id and j.status = 'running')
      """;

  private static final String FINISH =
      """
      update export_part set status = 'done', resources = ?, bytes = ?, lease_until = null
       where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'
      """;

  private static final String RELEASE =
      "update export_part set status = 'pending', owner = null, lease_until = null"
          + " where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'";

  // pending, but not claimed again before lease_until
  private static final String RETRY_LATER =
      "update export_part set status = 'pending', owner = null, lease_until = now() + ?::interval, outages = outages + 1"
          + " where job_id = ? and part_no = ? and owner = ? and attempt = ? and status = 'running'";

  private static final String MEMBERS = "select patient_id from export_member where job_id = ?";

  private static final String PROGRESS =
      """
      select count(*), count(*) filter (where status = 'done'), coalesce(sum(resources), 0)
        from export_part where job_id = ?
      """;

  private final DataSource dataSource;

  public ExportPartTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** What finishing a part did. */
  public enum Finished { NOT_OURS, PART_DONE, JOB_COMPLETED }

  /**
   * A part to insert at planning; {@code patients} only for {@link ExportPartKind#PATIENT_BLOCKS},
   * {@code sharedTypes} only for a {@link ExportPartKind#RESOURCES} part of several types.
   */
  public record NewPart(ExportPartKind kind, String resType, long pkFrom, long pkTo, PatientRange patients,
      List<String> sharedTypes) {
    public NewPart(ExportPartKind kind, String resType, long pkFrom, long pkTo) {
      this(kind, resType, pkFrom, pkTo, null, null);
    }

    public static NewPart patientBlocks(PatientRange patients) {
      return new NewPart(ExportPartKind.PATIENT_BLOCKS, null, 0, 0, patients, null);
    }

    /** One resources part for several small types, each read over the same pk range. */
    public static NewPart sharedResources(List<String> types, long pkFrom, long pkTo) {
      return new NewPart(ExportPartKind.RESOURCES, null, pkFrom, pkTo, null, List.copyOf(types));
    }
  }

  /**
   * Writes the plan of a job and marks it running, in one transaction: a planner that dies
   * half-way leaves nothing behind, and the job is planned again.
   *
   * @return false when the job was no longer this planner's (cancelled, or taken over)
   */
  public boolean plan(UUID jobId, String owner, Collection<String> members, Iterable<NewPart> parts) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        // The plan's commit does not wait for its WAL flush: whatever acts on the plan commits
        // after it, synchronously, which flushes the plan first (a worker's claim of a part, the
        // job's end); a crash of PostgreSQL before any such commit loses the plan and nothing
        // else, and the job, queued again, is planned again once its planning lease lapses.
        try (PreparedStatement ps = c.prepareStatement(ASYNC_COMMIT)) {
          ps.execute();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT_MEMBER)) {
          int n = 0;
          for (String m : members) {
            ps.setObject(1, jobId);
            ps.setString(2, m);
            ps.addBatch();
            if (++n % 1000 == 0) {
              ps.executeBatch();
            }
          }
          ps.executeBatch();
        }
        try (PreparedStatement ps = c.prepareStatement(INSERT)) {
          int no = 0;
          for (NewPart p : parts) {
            ps.setObject(1, jobId);
            ps.setInt(2, ++no);
            ps.setString(3, p.kind().sqlName());
            ps.setString(4, p.resType());
            ps.setLong(5, p.pkFrom());
            ps.setLong(6, p.pkTo());
            ps.setString(7, p.patients() == null ? null : p.patients().after());
            ps.setString(8, p.patients() == null ? null : p.patients().to());
            ps.setArray(9, p.sharedTypes() == null ? null : c.createArrayOf("text", p.sharedTypes().toArray()));
            ps.addBatch();
          }
          ps.executeBatch();
        }
        if (!ExportJobTable.start(c, jobId, owner)) {
          c.rollback();
          return false;
        }
        c.commit();
        return true;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** A claimed part with its job's row, as it was when the part was claimed (running). */
  public record Claimed(ExportPartRow part, ExportJobRow job) {}

  public Optional<Claimed> claim(String owner, Duration lease) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(CLAIM)) {
      ps.setString(1, owner);
      ps.setString(2, lease.toMillis() + " milliseconds");
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        Array shared = rs.getArray(11);
        ExportPartRow part = new ExportPartRow(rs.getObject(1, UUID.class), rs.getInt(2),
            ExportPartKind.ofSql(rs.getString(3)), rs.getString(4), rs.getLong(5), rs.getLong(6), rs.getInt(7),
            rs.getInt(8), rs.getString(3).equals(ExportPartKind.PATIENT_BLOCKS.sqlName())
                ? new PatientRange(rs.getString(9), rs.getString(10)) : null,
            shared == null ? null : List.of((String[]) shared.getArray()));
        return Optional.of(new Claimed(part, ExportJobTable.row(rs, 11)));
      }
    }
  }

  /** @return false when the part is no longer ours: lease lost, or the job cancelled or gone */
  public boolean renew(ExportPartRow part, String owner, Duration lease) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RENEW)) {
      ps.setString(1, lease.toMillis() + " milliseconds");
      ps.setObject(2, part.jobId());
      ps.setInt(3, part.partNo());
      ps.setString(4, owner);
      ps.setInt(5, part.attempt());
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * Marks the part done and its files done with their counts ({@code files}, as closed), and
   * completes the job when it was the last part, in one transaction holding the job row (so two
   * last parts cannot both miss it).
   *
   * @return what became of the part; {@link Finished#NOT_OURS} when it was no longer ours (its
   *     files must then be discarded)
   */
  public Finished finish(ExportPartRow part, String owner, long resources, long bytes, List<ExportFileRow> files,
      Duration retention) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        Optional<ExportJobStatus> status = ExportJobTable.lock(c, part.jobId());
        if (status.isEmpty() || status.get() != ExportJobStatus.RUNNING) {
          c.rollback();
          return Finished.NOT_OURS;
        }
        int updated;
        try (PreparedStatement ps = c.prepareStatement(FINISH)) {
          ps.setLong(1, resources);
          ps.setLong(2, bytes);
          ps.setObject(3, part.jobId());
          ps.setInt(4, part.partNo());
          ps.setString(5, owner);
          ps.setInt(6, part.attempt());
          updated = ps.executeUpdate();
        }
        if (updated != 1) {
          c.rollback();
          return Finished.NOT_OURS;
        }
        ExportFileTable.recordClosed(c, part.jobId(), files);
        ExportFileTable.markDone(c, part);
        boolean completed = ExportJobTable.completeIfDone(c, part.jobId(), retention);
        c.commit();
        return completed ? Finished.JOB_COMPLETED : Finished.PART_DONE;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** Gives the part back (shutdown, or a failure to retry) so any worker can take it at once. */
  public void release(ExportPartRow part, String owner) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RELEASE)) {
      ps.setObject(1, part.jobId());
      ps.setInt(2, part.partNo());
      ps.setString(3, owner);
      ps.setInt(4, part.attempt());
      ps.executeUpdate();
    }
  }

  /** Gives the part back after the output store was unreachable, to be claimed again after {@code wait}. */
  public void retryLater(ExportPartRow part, String owner, Duration wait) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(RETRY_LATER)) {
      ps.setString(1, wait.toMillis() + " milliseconds");
      ps.setObject(2, part.jobId());
      ps.setInt(3, part.partNo());
      ps.setString(4, owner);
      ps.setInt(5, part.attempt());
      ps.executeUpdate();
    }
  }

  /** The member patients of a job (bounded by the size of its Group). */
  public java.util.Set<String> members(UUID jobId) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(MEMBERS)) {
      ps.setObject(1, jobId);
      java.util.Set<String> ids = new java.util.HashSet<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add(rs.getString(1));
        }
      }
      return ids;
    }
  }

  /** Parts in all, parts done, resources written by the parts done. */
  public record Progress(long parts, long done, long resources) {}

  public Progress progress(UUID jobId) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(PROGRESS)) {
      ps.setObject(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Progress(rs.getLong(1), rs.getLong(2), rs.getLong(3));
      }
    }
  }
}

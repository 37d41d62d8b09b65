package dev.sluice.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.util.PSQLState;

/**
 * The {@code export_file} table: every file a part attempt opened, and its counts once its part
 * is done. A row is committed before its file is created ({@link #allocate}), so a redone part
 * finds, and removes, every file of the attempts before it; the counts matter only to a done
 * file, so they are written with the part's finish, in its transaction ({@link #recordClosed}).
 */
public final class ExportFileTable {
  private static final String ALLOCATE =
      """
      insert into export_file (job_id, prefix, seq, kind, res_type, part_no, attempt, state)
      select ?, ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ?, 'writing' from export_file where job_id = ? and prefix = ?
      returning seq
      """;
  /** The first file of several prefixes at once, each numbered next for its prefix. */
  private static final String ALLOCATE_FIRST =
      """
      insert into export_file (job_id, prefix, seq, kind, res_type, part_no, attempt, state)
      select ?, x.prefix, coalesce((select max(f.seq) from export_file f where f.job_id = ? and f.prefix = x.prefix), 0) + 1,
             x.kind, x.res_type, ?, ?, 'writing'
        from unnest(?::text[], ?::text[], ?::text[]) as x(prefix, kind, res_type)
      returning prefix, seq, kind, res_type
      """;
  private static final String CLOSE =
      "update export_file set resources = ?, bytes = ?, continues_seq = ? where job_id = ? and prefix = ? and seq = ?";
  private static final String MARK_DONE =
      "update export_file set state = 'done' where job_id = ? and part_no = ? and attempt = ? and state = 'writing'";
  private static final String DISCARD =
      """
      update export_file set state = 'discarded'
       where job_id = ? and part_no = ? and attempt <> ? and state <> 'discarded'
      returning prefix, seq, kind, res_type, resources, bytes, continues_seq
      """;
  private static final String DISCARD_ATTEMPT =
      """
      update export_file set state = 'discarded'
       where job_id = ? and part_no = ? and attempt = ? and state <> 'discarded'
      returning prefix, seq, kind, res_type, resources, bytes, continues_seq
      """;
  private static final String DONE =
      """
      select prefix, seq, kind, res_type, resources, bytes, continues_seq from export_file
       where job_id = ? and state = 'done' and resources > 0
       order by kind, res_type, seq
      """;
  private static final String LOCK_JOB = "select 1 from export_job where id = ? for update";
  private static final String CUT_PAGE =
      """
      update export_file set page = (select coalesce(max(page), 0) + 1 from export_file where job_id = ?)
       where job_id = ? and state = 'done' and resources > 0 and page is null
      """;
  private static final String LAST_PAGE = "select coalesce(max(page), 0) from export_file where job_id = ?";
  private static final String PAGE =
      """
      select prefix, seq, kind, res_type, resources, bytes, continues_seq from export_file
       where job_id = ? and page = ?
       order by kind, res_type, seq
      """;
  private static final String PAGED = "select 1 from export_file where job_id = ? and prefix = ? and seq = ? and page is not null";
  private static final String ALL =
      "select prefix, seq, kind, res_type, resources, bytes, continues_seq from export_file where job_id = ? order by prefix, seq";

  private static final int ALLOCATE_TRIES = 20;

  private final DataSource dataSource;

  public ExportFileTable(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** Records a new file of a part attempt and gives it the next number for its prefix. */
  public ExportFileRow allocate(ExportPartRow part, String prefix, String kind, String resType) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(ALLOCATE)) {
      for (int tries = 1; ; tries++) {
        ps.setObject(1, part.jobId());
        ps.setString(2, prefix);
        ps.setString(3, kind);
        ps.setString(4, resType);
        ps.setInt(5, part.partNo());
        ps.setInt(6, part.attempt());
        ps.setObject(7, part.jobId());
        ps.setString(8, prefix);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          return new ExportFileRow(prefix, rs.getInt(1), kind, resType, 0, 0);
        } catch (SQLException e) {
          // two parts of one type numbered a file at the same moment: take the next number
          if (!PSQLState.UNIQUE_VIOLATION.getState().equals(e.getSQLState()) || tries == ALLOCATE_TRIES) {
            throw e;
          }
        }
      }
    }
  }

  /**
   * Records the first file of each of {@code prefixes} (with its kind and type, index for index)
   * for a part attempt, in one statement and one commit: a shared part opens a file per type, and
   * a commit each was most of its time (bench/README, target 2). A file allocated but never
   * written stays at 0 resources: never in a manifest, and its removal finds nothing to delete.
   */
  public List<ExportFileRow> allocateFirst(ExportPartRow part, List<String> prefixes, List<String> kinds,
      List<String> resTypes) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(ALLOCATE_FIRST)) {
      for (int tries = 1; ; tries++) {
        ps.setObject(1, part.jobId());
        ps.setObject(2, part.jobId());
        ps.setInt(3, part.partNo());
        ps.setInt(4, part.attempt());
        ps.setArray(5, c.createArrayOf("text", prefixes.toArray()));
        ps.setArray(6, c.createArrayOf("text", kinds.toArray()));
        ps.setArray(7, c.createArrayOf("text", resTypes.toArray()));
        Map<String, ExportFileRow> byPrefix = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            byPrefix.put(rs.getString(1), new ExportFileRow(rs.getString(1), rs.getInt(2), rs.getString(3),
                rs.getString(4), 0, 0));
          }
        } catch (SQLException e) {
          // another part numbered a file of one of these prefixes at the same moment: number them again
          if (!PSQLState.UNIQUE_VIOLATION.getState().equals(e.getSQLState()) || tries == ALLOCATE_TRIES) {
            throw e;
          }
          continue;
        }
        return prefixes.stream().map(byPrefix::get).toList();
      }
    }
  }

  /** Records the counts of a part's closed files, in one batch (the part's finish transaction). */
  static void recordClosed(Connection c, UUID jobId, List<ExportFileRow> closed) throws SQLException {
    if (closed.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(CLOSE)) {
      for (ExportFileRow file : closed) {
        ps.setLong(1, file.resources());
        ps.setLong(2, file.bytes());
        if (file.continuesSeq() == null) {
          ps.setNull(3, java.sql.Types.INTEGER);
        } else {
          ps.setInt(3, file.continuesSeq());
        }
        ps.setObject(4, jobId);
        ps.setString(5, file.prefix());
        ps.setInt(6, file.seq());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  static void markDone(Connection c, ExportPartRow part) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(MARK_DONE)) {
      ps.setObject(1, part.jobId());
      ps.setInt(2, part.partNo());
      ps.setInt(3, part.attempt());
      ps.executeUpdate();
    }
  }

  /** Marks the files of this part's earlier attempts discarded and returns them, for removal. */
  public List<ExportFileRow> discardEarlierAttempts(ExportPartRow part) throws SQLException {
    return discard(DISCARD, part);
  }

  /** Marks the files of this very attempt discarded (it lost its lease) and returns them. */
  public List<ExportFileRow> discardAttempt(ExportPartRow part) throws SQLException {
    return discard(DISCARD_ATTEMPT, part);
  }

  private List<ExportFileRow> discard(String sql, ExportPartRow part) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setObject(1, part.jobId());
      ps.setInt(2, part.partNo());
      ps.setInt(3, part.attempt());
      return rows(ps);
    }
  }

  /** The files of the manifest: done and not empty, by kind, type and number. */
  public List<ExportFileRow> done(UUID jobId) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(DONE)) {
      ps.setObject(1, jobId);
      return rows(ps);
    }
  }

  /**
   * Puts the done files that are in no page yet into a new page (a partial manifest), and
   * returns the number of the last page (0: none). The job row's lock makes concurrent cuts
   * of any process take turns, so a page, once cut, never changes.
   */
  public int cutPage(UUID jobId) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        for (String sql : new String[] {LOCK_JOB, CUT_PAGE}) {
          try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, jobId);
            if (sql.equals(CUT_PAGE)) {
              ps.setObject(2, jobId);
              ps.executeUpdate();
            } else {
              ps.executeQuery().close();
            }
          }
        }
        int last = lastPage(c, jobId);
        c.commit();
        return last;
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** The number of the last page cut (0: none). */
  public int lastPage(UUID jobId) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      return lastPage(c, jobId);
    }
  }

  private static int lastPage(Connection c, UUID jobId) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(LAST_PAGE)) {
      ps.setObject(1, jobId);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  /** The files of one page of the manifest, by kind, type and number. */
  public List<ExportFileRow> page(UUID jobId, int page) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(PAGE)) {
      ps.setObject(1, jobId);
      ps.setInt(2, page);
      return rows(ps);
    }
  }

  /** Whether a file is in a page of the manifest (and so final, and downloadable before the job ends). */
  public boolean paged(UUID jobId, String prefix, int seq) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(PAGED)) {
      ps.setObject(1, jobId);
      ps.setString(2, prefix);
      ps.setInt(3, seq);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** Every file ever opened for the job, for removal. */
  public List<ExportFileRow> all(UUID jobId) throws SQLException {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(ALL)) {
      ps.setObject(1, jobId);
      return rows(ps);
    }
  }

  private static List<ExportFileRow> rows(PreparedStatement ps) throws SQLException {
    List<ExportFileRow> files = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        files.add(new ExportFileRow(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getString(4),
            rs.getLong(5), rs.getLong(6), rs.getObject(7, Integer.class)));
      }
    }
    return files;
  }
}

package dev.sluice.store;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.slf4j.LoggerFactory;

/**
 * New connections whose PostgreSQL backend process runs at a lower CPU priority (a higher nice
 * value): the export's, so that on a machine with few cores the API's queries get the CPU first
 * while an export's COPY keeps whatever is left (bench/README.md, "Search latency during
 * exports"). Given to Hikari as its data source, so it runs once per physical connection, not
 * per borrow. Only for the embedded PostgreSQL: its backends are processes of this machine,
 * children of a postmaster this process started, so this user may lower them, and their
 * autogroups ({@link Autogroups#lower}), which is what orders them against other sessions.
 */
final class LowPriorityBackends implements DataSource {
  private static final org.slf4j.Logger log = LoggerFactory.getLogger(LowPriorityBackends.class);

  private final DataSource target;
  private final Niceness niceness;
  private final Autogroups autogroups;
  /** One WARN when renice fails, not one per connection. */
  private final AtomicBoolean warned = new AtomicBoolean();
  /** The scheduling groups are looked at on the first connection: every backend is apart from this server. */
  private final AtomicBoolean groupsSeen = new AtomicBoolean();

  LowPriorityBackends(DataSource target, Niceness niceness, Autogroups autogroups) {
    this.target = target;
    this.niceness = niceness;
    this.autogroups = autogroups;
  }

  @Override
  public Connection getConnection() throws SQLException {
    return lowered(target.getConnection());
  }

  @Override
  public Connection getConnection(String user, String password) throws SQLException {
    return lowered(target.getConnection(user, password));
  }

  private Connection lowered(Connection c) throws SQLException {
    int pid = c.unwrap(PGConnection.class).getBackendPID();
    // on failure the backend keeps the API's priority: the export still runs
    niceness.apply(pid).ifPresent(why -> failed(pid, why));
    autogroups.lower(pid, niceness).ifPresent(why -> failed(pid, why));
    if (groupsSeen.compareAndSet(false, true)) {
      autogroups.apart(pid).ifPresent(why -> log.info("Export backends run at niceness {} in autogroups of their own;"
          + " this server's export threads yield to its API threads but not to the API's PostgreSQL backends: {},"
          + " and the kernel shares the CPU between groups first. For that too, run Sluice in a cpu cgroup (a"
          + " systemd unit with CPUWeight= set, a container) or set kernel.sched_autogroup_enabled=0 (docs/config.md)",
          niceness.value(), why));
    }
    return c;
  }

  private void failed(int pid, String why) {
    if (warned.compareAndSet(false, true)) {
      log.warn("Export backends keep the API's CPU priority: lowering PostgreSQL backend {} to niceness {} failed ({});"
          + " not said again for later connections", pid, niceness.value(), why);
    } else {
      log.debug("Lowering PostgreSQL backend {} to niceness {} failed: {}", pid, niceness.value(), why);
    }
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return target.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    target.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    target.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return target.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return target.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> type) throws SQLException {
    return type.isInstance(this) ? type.cast(this) : target.unwrap(type);
  }

  @Override
  public boolean isWrapperFor(Class<?> type) throws SQLException {
    return type.isInstance(this) || target.isWrapperFor(type);
  }
}

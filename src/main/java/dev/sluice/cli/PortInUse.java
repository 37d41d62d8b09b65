package dev.sluice.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * The HTTP address cannot be listened on. Checked before the database, migrations and workers
 * start, so a busy port costs a second and one line instead of a start-up and a stack trace.
 */
final class PortInUse extends IllegalStateException {
  private PortInUse(String message) {
    super(message);
  }

  /** Binds the address and lets it go again; port 0 (any free port) always works. */
  static void check(String host, int port, String option) {
    if (port == 0) {
      return;
    }
    try (ServerSocket probe = new ServerSocket()) {
      // as Jetty binds: a port that only has connections in TIME_WAIT counts as free
      probe.setReuseAddress(true);
      probe.bind(new InetSocketAddress(host, port));
    } catch (IOException e) {
      throw new PortInUse("cannot listen on " + host + ":" + port + " (" + e.getMessage()
          + "); is another server using it? Choose another with " + option);
    }
  }
}

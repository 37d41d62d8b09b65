package dev.sluice.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.function.IntSupplier;

/**
 * A free TCP port on 127.0.0.1 for the embedded PostgreSQL, never the port the HTTP server is
 * about to take: PostgreSQL starts first, so a port the system hands out as free could be the
 * HTTP server's own when that one is in the ephemeral range (seen in a test: "Port already in
 * use" from Jetty, PostgreSQL listening there).
 */
final class LoopbackPort {
  private static final int TRIES = 10;

  private LoopbackPort() {}

  /** A port the system gives as free now, other than {@code httpPort}. */
  static int freeOtherThan(int httpPort) {
    return freeOtherThan(httpPort, LoopbackPort::free);
  }

  static int freeOtherThan(int httpPort, IntSupplier free) {
    for (int i = 0; i < TRIES; i++) {
      int port = free.getAsInt();
      if (port != httpPort) {
        return port;
      }
    }
    throw new IllegalStateException("no free port other than " + httpPort + " in " + TRIES + " tries");
  }

  private static int free() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free port on 127.0.0.1", e);
    }
  }
}

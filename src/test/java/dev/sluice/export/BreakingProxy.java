package dev.sluice.export;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of a server that breaks every connection once it has passed
 * {@code limit} bytes of answers, as S3 and networks break long downloads: a client must
 * continue where the connection broke to read anything larger.
 */
final class BreakingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final int targetPort;
  private final long limit;
  private final AtomicInteger broken = new AtomicInteger();

  BreakingProxy(int targetPort, long limit) throws IOException {
    this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetPort = targetPort;
    this.limit = limit;
    Thread.ofVirtual().name("breaking-proxy").start(this::accept);
  }

  String endpoint() {
    return "http://127.0.0.1:" + listener.getLocalPort();
  }

  /** How many connections it broke. */
  int broken() {
    return broken.get();
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        Socket target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
        Thread.ofVirtual().start(() -> copy(client, target, Long.MAX_VALUE));
        Thread.ofVirtual().start(() -> copy(target, client, limit));
      } catch (IOException e) {
        return; // closed
      }
    }
  }

  private void copy(Socket from, Socket to, long max) {
    byte[] buffer = new byte[16384];
    long passed = 0;
    try (from; to) {
      InputStream in = from.getInputStream();
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buffer)) > 0) {
        int pass = (int) Math.min(n, max - passed);
        out.write(buffer, 0, pass);
        passed += pass;
        if (passed >= max) {
          broken.incrementAndGet();
          out.flush();
          // an orderly close in the middle of an answer: every byte sent arrives, then the end comes early
          return;
        }
      }
    } catch (IOException e) {
      // the other side closed: closing both ends passes that on
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
  }
}

package dev.sluice.export;

import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.util.concurrent.TimeoutException;

/**
 * The output store did not answer (refused, timed out, or answered that it is busy or down):
 * worth trying again later, unlike an error of the request. The message says so in words
 * a client may read; the SDK's exception stays the cause, for the log.
 */
public final class StoreUnreachable extends IOException {
  public StoreUnreachable(String message, Throwable cause) {
    super(message, cause);
  }

  /** Why {@code t} (one exception, not its causes) means the store could not be reached, in words; null if it does not. */
  static String networkReason(Throwable t) {
    if (t instanceof ConnectException) {
      return "connection refused";
    }
    if (t instanceof UnknownHostException) {
      return "unknown host";
    }
    if (t instanceof SocketTimeoutException || t instanceof TimeoutException) {
      return "timed out";
    }
    if (t instanceof SocketException || t.getClass().getName().contains("PrematureClose")) {
      return "the connection was closed";
    }
    return null;
  }

  /** The StoreUnreachable in {@code e}'s causes, or null. */
  static StoreUnreachable in(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof StoreUnreachable u) {
        return u;
      }
    }
    return null;
  }
}

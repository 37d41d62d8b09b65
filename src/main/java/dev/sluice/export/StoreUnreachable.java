package dev.sluice.export;

import java.io.IOException;

/**
 * The output store did not answer (refused, timed out, or answered that it is busy or down):
 * worth trying again later, unlike an error of the request. The message says so in words
 * a client may read; the SDK's exception stays the cause, for the log.
 */
public final class StoreUnreachable extends IOException {
  public StoreUnreachable(String message, Throwable cause) {
    super(message, cause);
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

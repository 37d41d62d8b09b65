package dev.sluice.store;

/**
 * The data directory cannot be used as it is, and nothing in it was changed: another process
 * holds it, or its database needs an upgrade first. The message is one line for the operator.
 */
public final class DataDirRefused extends IllegalStateException {
  /** What the process holding the directory said it does ("port 8080"), or null when no process holds it. */
  private final String holderRole;

  DataDirRefused(String message) {
    this(message, null);
  }

  DataDirRefused(String message, String holderRole) {
    super(message);
    this.holderRole = holderRole;
  }

  /**
   * True when a server (or a tool, which records port 0) holds the directory: its PostgreSQL is then
   * running, or about to once the server has started it.
   */
  boolean heldByServer() {
    return holderRole != null && holderRole.startsWith("port ");
  }
}

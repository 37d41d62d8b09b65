package dev.sluice.store;

/**
 * The data directory cannot be used as it is, and nothing in it was changed: another process
 * holds it, or its database needs an upgrade first. The message is one line for the operator.
 */
public final class DataDirRefused extends IllegalStateException {
  DataDirRefused(String message) {
    super(message);
  }
}

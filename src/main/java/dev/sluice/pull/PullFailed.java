package dev.sluice.pull;

/** The export cannot go on: the server refused or failed it; the message says why, for the user. */
final class PullFailed extends Exception {
  PullFailed(String message) {
    super(message);
  }
}

package dev.sluice.pull;

import java.net.URI;

/** Which export a run downloads: one it kicks off, a running one it attaches to, or the one an earlier run left. */
public sealed interface Job {
  record Start(KickOff kickOff) implements Job {}

  record Attach(URI status) implements Job {}

  /** The export whose status URL (and manifest, when it got that far) the output directory holds. */
  record Resume() implements Job {}

  static Job start(KickOff kickOff) {
    return new Start(kickOff);
  }

  static Job attach(URI status) {
    return new Attach(status);
  }

  static Job resume() {
    return new Resume();
  }
}

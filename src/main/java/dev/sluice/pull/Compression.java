package dev.sluice.pull;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;

/**
 * Whether a fresh download asks for gzip ({@code --gzip}). A server that compresses on the fly
 * spends CPU per byte: Sluice's own file serving gives a third of its plain rate gzipped (46-62
 * against 144-196 MB/s on the bench machine; bench/README.md, "Pull"). Gzip pays when the
 * network is slower than that, as across the internet, and costs on this machine or a local
 * network.
 */
public enum Compression {
  /** Gzip except from an address of this machine or of a private network. */
  AUTO,
  ALWAYS,
  NEVER;

  boolean asksFor(URI url) {
    return switch (this) {
      case ALWAYS -> true;
      case NEVER -> false;
      case AUTO -> !near(url.getHost());
    };
  }

  private static boolean near(String host) {
    if (host == null) {
      return false;
    }
    try {
      InetAddress a = InetAddress.getByName(host);
      return a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}

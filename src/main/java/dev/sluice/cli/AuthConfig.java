package dev.sluice.cli;

import dev.sluice.auth.AuthMode;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * The authorization settings of {@link Config} ({@code --auth} and what goes with it; see
 * docs/security.md).
 *
 * @param mode who may call the FHIR API
 * @param allowUnauthenticated {@code --allow-unauthenticated}: {@code none} on an address other
 *     than loopback (warned about at every start)
 * @param tokenLifetimeSeconds {@code smart} mode: how long an access token Sluice issues lives
 */
public record AuthConfig(AuthMode mode, boolean allowUnauthenticated, int tokenLifetimeSeconds) {
  public static final int DEFAULT_TOKEN_LIFETIME = 300;
  /** The longest --auth-token-lifetime: how long a retired signing key must still verify. */
  static final Duration LONGEST_TOKEN_LIFETIME = Duration.ofSeconds(3600);

  public static AuthConfig none() {
    return new AuthConfig(AuthMode.NONE, false, DEFAULT_TOKEN_LIFETIME);
  }

  public static AuthConfig smart() {
    return new AuthConfig(AuthMode.SMART, false, DEFAULT_TOKEN_LIFETIME);
  }

  void validate(List<String> problems, String host) {
    if (mode == null) {
      problems.add("--auth (SLUICE_AUTH) must be one of none, smart, oidc");
      return;
    }
    if (mode == AuthMode.NONE && !allowUnauthenticated && !isLoopback(host)) {
      problems.add("--auth none lets anyone who reaches " + host + " read, change and export every record, so it is"
          + " only allowed on a loopback address (127.0.0.1, ::1, localhost). Choose --auth smart (Sluice issues"
          + " tokens to clients registered with 'sluice clients add') or --auth oidc (tokens of your identity"
          + " provider), or listen on --host 127.0.0.1; --allow-unauthenticated overrides this at your own risk");
    }
    if (tokenLifetimeSeconds < 10 || tokenLifetimeSeconds > LONGEST_TOKEN_LIFETIME.toSeconds()) {
      problems.add("--auth-token-lifetime (SLUICE_AUTH_TOKEN_LIFETIME) must be between 10 and 3600 seconds, got "
          + tokenLifetimeSeconds);
    }
  }

  /** Whether only this machine can reach the address (a name that does not resolve is not). */
  static boolean isLoopback(String host) {
    try {
      for (InetAddress a : InetAddress.getAllByName(host)) {
        if (!a.isLoopbackAddress()) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  /** Whether the server runs open to anyone beyond this machine: logged as a WARN at every start. */
  boolean openBeyondLoopback(String host) {
    return mode == AuthMode.NONE && !isLoopback(host);
  }

  @Override
  public String toString() {
    return "mode=" + mode.name().toLowerCase(Locale.ROOT) + ", allowUnauthenticated=" + allowUnauthenticated
        + ", tokenLifetime=" + tokenLifetimeSeconds + "s";
  }
}

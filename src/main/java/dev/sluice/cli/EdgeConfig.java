package dev.sluice.cli;

import dev.sluice.auth.AuthMode;
import dev.sluice.auth.OidcTokenVerifier;
import dev.sluice.http.TlsFiles;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The settings of {@link Config} at the server's edge besides the mode of {@link AuthConfig}:
 * whose tokens {@code oidc} mode accepts, the certificate HTTPS is served with, and where the
 * audit log goes (docs/security.md).
 *
 * @param oidc {@code --oidc-*}, for {@code --auth oidc}
 * @param tls {@code --tls-cert} and {@code --tls-key}, or empty for plain HTTP
 * @param auditFile {@code --audit-log}: the file the {@code sluice.audit} lines go to (instead
 *     of the server log), or empty
 * @param managementPort {@code --management-port}: the port {@code /health}, {@code /health/ready}
 *     and {@code /metrics} move to (plain HTTP, same host), or empty to serve them on the FHIR port
 */
public record EdgeConfig(Oidc oidc, Optional<TlsFiles> tls, Optional<Path> auditFile, OptionalInt managementPort) {

  /** Probes and metrics on the FHIR port. */
  public EdgeConfig(Oidc oidc, Optional<TlsFiles> tls, Optional<Path> auditFile) {
    this(oidc, tls, auditFile, OptionalInt.empty());
  }

  /** The same settings with probes and metrics on this port (or, empty, on the FHIR port). */
  public EdgeConfig withManagementPort(OptionalInt port) {
    return new EdgeConfig(oidc, tls, auditFile, port);
  }

  /**
   * @param issuer {@code --oidc-issuer}, exactly as the identity provider states it, or null
   * @param audience {@code --oidc-audience}: the {@code aud} its tokens must carry, or null
   * @param rolesFile {@code --oidc-roles}: application roles to SMART scopes, or empty
   * @param clockSkew how far {@code exp} may be off (not an option: tests shorten it)
   * @param keyRefetchInterval the shortest time between two fetches of the provider's keys
   *     (not an option: tests set zero)
   */
  public record Oidc(String issuer, String audience, Optional<Path> rolesFile, Duration clockSkew,
      Duration keyRefetchInterval) {
    public static Oidc of(String issuer, String audience, Optional<Path> rolesFile) {
      return new Oidc(issuer, audience, rolesFile, OidcTokenVerifier.Settings.CLOCK_SKEW,
          OidcTokenVerifier.Settings.KEY_REFETCH_INTERVAL);
    }

    OidcTokenVerifier.Settings verifierSettings() {
      return new OidcTokenVerifier.Settings(audience, clockSkew, keyRefetchInterval);
    }
  }

  /** No identity provider, plain HTTP, audit lines in the server log. */
  public static EdgeConfig none() {
    return new EdgeConfig(Oidc.of(null, null, Optional.empty()), Optional.empty(), Optional.empty());
  }

  void validate(List<String> problems, AuthMode mode, int fhirPort) {
    managementPort.ifPresent(p -> {
      if (p < 1 || p > 65535) {
        problems.add("--management-port (SLUICE_MANAGEMENT_PORT) must be between 1 and 65535, got " + p);
      } else if (p == fhirPort) {
        problems.add("--management-port (SLUICE_MANAGEMENT_PORT) must differ from --port, both are " + p);
      }
    });
    boolean oidcMode = mode == AuthMode.OIDC;
    if (oidcMode && blank(oidc.issuer())) {
      problems.add("--auth oidc needs --oidc-issuer (SLUICE_OIDC_ISSUER), the identity provider's issuer URL");
    } else if (oidcMode && !oidc.issuer().startsWith("https://") && !isLoopbackUrl(oidc.issuer())) {
      problems.add("--oidc-issuer (SLUICE_OIDC_ISSUER) must be an https:// URL (plain http only on a loopback address)");
    }
    if (oidcMode && blank(oidc.audience())) {
      problems.add("--auth oidc needs --oidc-audience (SLUICE_OIDC_AUDIENCE), the aud its tokens carry for Sluice");
    }
    if (!oidcMode && (!blank(oidc.issuer()) || !blank(oidc.audience()) || oidc.rolesFile().isPresent())) {
      problems.add("--oidc-issuer, --oidc-audience and --oidc-roles need --auth oidc");
    }
    oidc.rolesFile().filter(f -> !Files.isReadable(f))
        .ifPresent(f -> problems.add("--oidc-roles (SLUICE_OIDC_ROLES): cannot read " + f));
    tls.ifPresent(t -> {
      if (!Files.isReadable(t.certificate())) {
        problems.add("--tls-cert (SLUICE_TLS_CERT): cannot read " + t.certificate());
      }
      if (!Files.isReadable(t.privateKey())) {
        problems.add("--tls-key (SLUICE_TLS_KEY): cannot read " + t.privateKey());
      }
    });
    auditFile.map(f -> f.toAbsolutePath().getParent()).filter(d -> !Files.isDirectory(d))
        .ifPresent(d -> problems.add("--audit-log (SLUICE_AUDIT_LOG): no directory " + d));
  }

  /**
   * From the two options, which come together or not at all.
   *
   * @throws IllegalArgumentException when only one is given
   */
  static Optional<TlsFiles> tls(Path cert, Path key) {
    if (cert == null && key == null) {
      return Optional.empty();
    }
    if (cert == null || key == null) {
      throw new IllegalArgumentException("--tls-cert and --tls-key (SLUICE_TLS_CERT, SLUICE_TLS_KEY) come together");
    }
    return Optional.of(new TlsFiles(cert, key));
  }

  private static boolean isLoopbackUrl(String url) {
    try {
      String host = URI.create(url).getHost();
      return url.startsWith("http://") && host != null && AuthConfig.isLoopback(host);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  @Override
  public String toString() {
    return "oidcIssuer=" + oidc.issuer() + ", oidcAudience=" + oidc.audience() + ", oidcRoles="
        + oidc.rolesFile().orElse(null) + ", tls=" + tls.isPresent() + ", auditLog=" + auditFile.orElse(null)
        + ", managementPort=" + (managementPort.isPresent() ? managementPort.getAsInt() : "none");
  }
}

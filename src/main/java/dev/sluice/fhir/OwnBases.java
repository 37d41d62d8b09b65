package dev.sluice.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The base URLs under which this server's own resources are addressed. An absolute reference
 * under one of them ({@code http://127.0.0.1:8080/fhir/Patient/123}) names the same resource as
 * the local {@code Patient/123} (FHIR R4 references.html: a reference to the server's own base
 * is a local one), so it is indexed and searched as that.
 *
 * @param bases without trailing slashes
 */
public record OwnBases(List<String> bases) {
  private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "0.0.0.0", "::", "::1");

  public OwnBases {
    bases = bases.stream().map(b -> b.replaceAll("/+$", "")).filter(b -> !b.isEmpty()).distinct().toList();
  }

  public static OwnBases none() {
    return new OwnBases(List.of());
  }

  /**
   * The bases known from the configuration: the public base URL when one is set, and the
   * address the server listens on (both loopback names when it listens on loopback or on every
   * interface). A port of 0 is only known once the server listens, so it gives no address here;
   * searches still add the base of each request ({@link #with}).
   */
  public static OwnBases of(String publicBaseUrl, String host, int port) {
    List<String> bases = new ArrayList<>();
    if (publicBaseUrl != null && !publicBaseUrl.isBlank()) {
      bases.add(publicBaseUrl);
    }
    if (port > 0) {
      if (LOOPBACK.contains(host)) {
        bases.add("http://127.0.0.1:" + port + "/fhir");
        bases.add("http://localhost:" + port + "/fhir");
      } else {
        bases.add("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/fhir");
      }
    }
    return new OwnBases(bases);
  }

  /** These bases and {@code base} (the one a request reached the server under). */
  public OwnBases with(String base) {
    List<String> more = new ArrayList<>(bases);
    more.add(base);
    return new OwnBases(more);
  }

  /**
   * @return {@code reference} relative to the own base it starts with ({@code Patient/123}), or
   *     null when it starts with none (scheme and host compare without regard to case)
   */
  public String relative(String reference) {
    for (String base : bases) {
      if (reference.length() > base.length() + 1 && reference.charAt(base.length()) == '/'
          && reference.regionMatches(true, 0, base, 0, base.length())) {
        return reference.substring(base.length() + 1);
      }
    }
    return null;
  }
}

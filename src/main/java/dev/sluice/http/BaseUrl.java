package dev.sluice.http;

import io.javalin.http.Context;

/**
 * The FHIR base URL that links in responses use: configured (behind a proxy), or taken from
 * the request's scheme and Host header.
 */
public final class BaseUrl {
  private final String configured;

  /** @param configured the public base URL ending in /fhir, or null to derive it per request */
  public BaseUrl(String configured) {
    this.configured = configured == null || configured.isBlank() ? null : configured.replaceAll("/+$", "");
  }

  public String of(Context ctx) {
    if (configured != null) {
      return configured;
    }
    return ctx.scheme() + "://" + ctx.host() + "/fhir";
  }
}

package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Typed reading of query parameters, each failure a 400 that names the parameter. */
final class Params {
  private Params() {}

  static int count(Context ctx, int defaultCount, int maxCount) {
    String raw = ctx.queryParam("_count");
    if (raw == null || raw.isBlank()) {
      return defaultCount;
    }
    try {
      int n = Integer.parseInt(raw.trim());
      if (n < 0) {
        throw FhirException.badRequest("_count must not be negative, got " + raw, "_count");
      }
      return Math.min(n, maxCount);
    } catch (NumberFormatException e) {
      throw FhirException.badRequest("_count must be a whole number, got '" + raw + "'", "_count");
    }
  }

  /** A FHIR instant (a dateTime with seconds and a time zone), or null when absent. */
  static Instant instant(Context ctx, String name) {
    String raw = ctx.queryParam(name);
    if (raw == null || raw.isBlank()) {
      return null;
    }
    return parseInstant(raw.trim(), name);
  }

  static Instant parseInstant(String raw, String name) {
    try {
      return OffsetDateTime.parse(raw).toInstant();
    } catch (DateTimeParseException e) {
      throw FhirException.badRequest(
          name + " must be a FHIR instant such as 2024-01-31T12:00:00Z (with seconds and a time zone), got '"
              + raw + "'", name);
    }
  }

  /** A version number from {@code W/"3"}, {@code "3"} or {@code 3}. */
  static Integer etagVersion(String header, String name) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String v = header.trim();
    if (v.startsWith("W/")) {
      v = v.substring(2);
    }
    v = v.replace("\"", "");
    try {
      return Integer.parseInt(v);
    } catch (NumberFormatException e) {
      throw FhirException.badRequest(name + " must name a version such as W/\"3\", got '" + header + "'", name);
    }
  }
}

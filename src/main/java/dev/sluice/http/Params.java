package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.StrictUtf8;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/** Typed reading of query parameters, each failure a 400 that names the parameter. */
final class Params {
  private Params() {}

  /**
   * Checks that percent-encoded text (a URL path, a query string, a form body) decodes: every
   * '%' starts an escape of two hex digits, and the bytes are UTF-8. Decoders elsewhere drop a
   * parameter with a bad escape (a search for everything) or put U+FFFD for bytes that are not
   * UTF-8 (a search for that character).
   *
   * @param name what the text is, for the message ("query string")
   */
  static void requireDecodable(String encoded, String name) {
    if (encoded == null || encoded.indexOf('%') < 0) {
      return;
    }
    // each run of escapes is whole UTF-8 characters: the text between runs is characters already
    java.io.ByteArrayOutputStream run = new java.io.ByteArrayOutputStream();
    for (int i = 0; i <= encoded.length(); i++) {
      if (i < encoded.length() && encoded.charAt(i) == '%') {
        int hi = i + 2 < encoded.length() ? Character.digit(encoded.charAt(i + 1), 16) : -1;
        int lo = hi < 0 ? -1 : Character.digit(encoded.charAt(i + 2), 16);
        if (lo < 0) {
          throw FhirException.badRequest("The " + name + " '" + encoded + "' holds a '%' that is not followed by two"
              + " hex digits (percent-encoding is %XX of UTF-8 bytes)", "url");
        }
        run.write(hi * 16 + lo);
        i += 2;
      } else if (run.size() > 0) {
        if (StrictUtf8.decode(run.toByteArray()).isEmpty()) {
          throw FhirException.badRequest("The " + name + " '" + encoded + "' decodes to bytes that are not UTF-8"
              + " (percent-encoding is %XX of UTF-8 bytes)", "url");
        }
        run.reset();
      }
    }
  }

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
    Instant t;
    try {
      t = OffsetDateTime.parse(raw).toInstant();
    } catch (DateTimeParseException e) {
      throw FhirException.badRequest(
          name + " must be a FHIR instant such as 2024-01-31T12:00:00Z (with seconds and a time zone), got '"
              + raw + "'", name);
    }
    // a FHIR year has four digits, no sign; the export's SQL writes the instant as text, which
    // PostgreSQL refused for a year before 1 once the job ran (a 202, then a failed export)
    if (raw.length() < 5 || raw.charAt(4) != '-' || !Character.isDigit(raw.charAt(0)) || t.isBefore(FIRST)
        || t.isAfter(LAST)) {
      throw FhirException.badRequest(name + " must be a FHIR instant in the years 1 to 9999 (four digits), got '"
          + raw + "'", name);
    }
    return t;
  }

  private static final Instant FIRST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LAST = Instant.parse("9999-12-31T23:59:59.999Z");

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

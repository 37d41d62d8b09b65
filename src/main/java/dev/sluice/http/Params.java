package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import io.javalin.http.Context;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
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
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(encoded.length());
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      if (c != '%') {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        continue;
      }
      int hi = i + 2 < encoded.length() ? Character.digit(encoded.charAt(i + 1), 16) : -1;
      int lo = hi < 0 ? -1 : Character.digit(encoded.charAt(i + 2), 16);
      if (lo < 0) {
        throw FhirException.badRequest("The " + name + " '" + encoded + "' holds a '%' that is not followed by two hex"
            + " digits (percent-encoding is %XX of UTF-8 bytes)", "url");
      }
      bytes.write(hi * 16 + lo);
      i += 2;
    }
    requireUtf8(bytes.toByteArray(), "The " + name + " '" + encoded + "' decodes to bytes that are not UTF-8"
        + " (percent-encoding is %XX of UTF-8 bytes)");
  }

  /** @param message the 400's diagnostics when {@code bytes} are not UTF-8 */
  static void requireUtf8(byte[] bytes, String message) {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
    } catch (CharacterCodingException e) {
      throw FhirException.badRequest(message, "url");
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

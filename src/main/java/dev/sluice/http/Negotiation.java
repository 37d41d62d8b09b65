package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.Issue;
import io.javalin.http.Context;
import java.util.Locale;

/** Content negotiation: which format a client sends ({@code Content-Type}) and accepts. */
final class Negotiation {
  private Negotiation() {}

  /** The response format from {@code _format}, else {@code Accept}; JSON when either allows anything. */
  static Format responseFormat(Context ctx) {
    String format = ctx.queryParam("_format");
    if (format != null && !format.isBlank()) {
      Format f = mediaFormat(format.trim());
      if (f == null) {
        throw new FhirException(406, Issue.error(Issue.Code.NOT_SUPPORTED,
            "_format '" + format + "' is not supported; use json or xml", "_format"));
      }
      return f;
    }
    String accept = ctx.header("Accept");
    if (accept == null || accept.isBlank()) {
      return Format.JSON;
    }
    boolean named = false;
    for (String part : accept.split(",")) {
      int semicolon = part.indexOf(';');
      String media = (semicolon < 0 ? part : part.substring(0, semicolon)).trim();
      if (media.isEmpty()) {
        continue;
      }
      named = true;
      if (media.equals("*/*") || media.equals("application/*")) {
        return Format.JSON;
      }
      Format f = mediaFormat(media);
      if (f != null) {
        return f;
      }
    }
    if (!named) {
      // only separators and parameters: no preference stated
      return Format.JSON;
    }
    throw new FhirException(406, Issue.error(Issue.Code.NOT_SUPPORTED,
        "None of the accepted media types (" + accept + ") is supported; use application/fhir+json or application/fhir+xml",
        "Accept"));
  }

  /** The request body's format from {@code Content-Type}; JSON when absent. */
  static Format requestFormat(Context ctx) {
    String type = ctx.header("Content-Type");
    if (type == null || type.isBlank()) {
      return Format.JSON;
    }
    int semicolon = type.indexOf(';');
    Format f = mediaFormat((semicolon < 0 ? type : type.substring(0, semicolon)).trim());
    if (f == null) {
      throw new FhirException(415, Issue.error(Issue.Code.NOT_SUPPORTED,
          "Content-Type '" + type + "' is not supported; send application/fhir+json or application/fhir+xml",
          "Content-Type"));
    }
    return f;
  }

  private static Format mediaFormat(String media) {
    return switch (media.toLowerCase(Locale.ROOT)) {
      case "json", "application/json", "application/fhir+json", "application/json+fhir" -> Format.JSON;
      case "xml", "application/xml", "application/fhir+xml", "application/xml+fhir", "text/xml" -> Format.XML;
      default -> null;
    };
  }
}

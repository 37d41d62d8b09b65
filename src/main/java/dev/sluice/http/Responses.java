package dev.sluice.http;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.store.StoredResource;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Writes FHIR responses in the negotiated format. JSON bytes go out as stored; XML is made
 * by HAPI from them, only for clients that ask for it.
 */
public final class Responses {
  private final FhirModel fhir;

  public Responses(FhirModel fhir) {
    this.fhir = fhir;
  }

  public FhirModel fhir() {
    return fhir;
  }

  /** Sends a JSON resource or Bundle in the format the client negotiated. */
  public void send(Context ctx, int status, byte[] json) {
    Format format = Negotiation.responseFormat(ctx);
    ctx.status(status);
    ctx.contentType(format.mediaType() + ";charset=utf-8");
    switch (format) {
      case JSON -> ctx.result(json);
      case XML -> ctx.result(fhir.encode(fhir.parse(json, Format.JSON), Format.XML)
          .getBytes(StandardCharsets.UTF_8));
    }
  }

  public void outcome(Context ctx, int status, List<Issue> issues) {
    byte[] json = OperationOutcomeJson.of(issues);
    Format format;
    try {
      format = Negotiation.responseFormat(ctx);
    } catch (RuntimeException e) {
      // an error about the Accept header itself still needs a readable answer
      format = Format.JSON;
    }
    ctx.status(status);
    ctx.contentType(format.mediaType() + ";charset=utf-8");
    ctx.result(format == Format.JSON ? json
        : fhir.encode(fhir.parse(json, Format.JSON), Format.XML).getBytes(StandardCharsets.UTF_8));
  }

  /** ETag, Last-Modified and (for writes) Location of one version. */
  static void versionHeaders(Context ctx, String base, StoredResource r, boolean location) {
    ctx.header("ETag", r.etag());
    ctx.header("Last-Modified",
        DateTimeFormatter.RFC_1123_DATE_TIME.format(r.lastUpdated().atOffset(ZoneOffset.UTC)));
    if (location) {
      ctx.header("Location", base + "/" + r.relativeUrl() + "/_history/" + r.version());
    }
  }
}

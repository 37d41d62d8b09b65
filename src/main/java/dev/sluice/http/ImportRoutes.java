package dev.sluice.http;

import dev.sluice.auth.Caller;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.imports.ImportJobs;
import dev.sluice.imports.ImportRequest;
import dev.sluice.imports.ImportStatus;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.CapabilityStatement;

/** Bulk {@code $import} as Azure offers it: kick-off, status, cancel, and the error files. */
final class ImportRoutes {
  private static final Pattern ERROR_FILE = Pattern.compile("errors-(\\d{1,9})\\.ndjson");

  private final ImportJobs imports;
  private final FhirModel fhir;
  private final Responses responses;
  private final BaseUrl baseUrl;

  ImportRoutes(ImportJobs imports, FhirModel fhir, Responses responses, BaseUrl baseUrl) {
    this.imports = imports;
    this.fhir = fhir;
    this.responses = responses;
    this.baseUrl = baseUrl;
  }

  void kickOff(Context ctx, Caller caller) {
    if (imports.requireAsyncHeaders()) {
      String accept = ctx.header("Accept");
      if (accept == null || !accept.toLowerCase(Locale.ROOT).contains("application/fhir+json")) {
        throw FhirException.badRequest("$import needs the header 'Accept: application/fhir+json' (got "
            + (accept == null ? "none" : "'" + accept + "'") + ")", "Accept");
      }
      if (!prefer(ctx).contains("respond-async")) {
        throw FhirException.badRequest("$import runs asynchronously and needs the header 'Prefer: respond-async'",
            "Prefer");
      }
    }
    ImportRequest request = ImportRequest.parse(fhir, ctx.bodyAsBytes(), Negotiation.requestFormat(ctx));
    String base = baseUrl.of(ctx);
    UUID job = imports.kickOff(request, caller, base + "/$import");
    ctx.status(202);
    ctx.header("Content-Location", base + "/_operations/import/" + job);
    ctx.contentType("application/fhir+json;charset=utf-8");
    ctx.result(OperationOutcomeJson.of(Issue.information(
        "Import " + job + " accepted; poll the Content-Location for its status")));
  }

  void status(Context ctx, Caller caller) {
    ImportStatus status = imports.status(id(ctx), caller, baseUrl.of(ctx)).orElseThrow(() -> notFound(ctx));
    switch (status) {
      case ImportStatus.Running r -> {
        ctx.header("X-Progress", r.partsDone() + " of " + r.parts() + " inputs done, " + r.imported()
            + " resources imported, " + r.errors() + " lines refused"
            + (r.merging() ? "; making them visible (InitialLoad merge)" : ""));
        ctx.header("Retry-After", "1");
        ctx.status(202);
      }
      case ImportStatus.Completed c -> {
        ctx.status(200);
        // as an export's manifest: the job and its error files are removed then
        ctx.header("Expires", DateTimeFormatter.RFC_1123_DATE_TIME.format(c.expires().atOffset(ZoneOffset.UTC)));
        ctx.contentType("application/json");
        ctx.result(c.result());
      }
      case ImportStatus.Failed f -> throw new FhirException(500, Issue.error(Issue.Code.EXCEPTION,
          "The import failed: " + f.reason()));
    }
  }

  void cancel(Context ctx, Caller caller) {
    UUID id = id(ctx);
    if (!imports.cancel(id, caller)) {
      throw notFound(ctx);
    }
    responses.outcome(ctx, 202, List.of(Issue.information("Import " + id
        + " cancelled; what it imported before stays")));
  }

  void errors(Context ctx, Caller caller) throws IOException {
    UUID id = id(ctx);
    Matcher m = ERROR_FILE.matcher(ctx.pathParam("file"));
    if (!m.matches() || !imports.hasPart(id, Integer.parseInt(m.group(1)), caller)) {
      throw FhirException.notFound("Import " + id + " has no file '" + ctx.pathParam("file") + "'");
    }
    ctx.status(200);
    ctx.contentType("application/fhir+ndjson");
    try (OutputStream out = ctx.res().getOutputStream()) {
      imports.writeErrors(id, Integer.parseInt(m.group(1)), out);
    }
  }

  static void declare(CapabilityStatement cs) {
    cs.getRestFirstRep().addOperation().setName("import")
        .setDefinition("http://hl7.org/fhir/uv/bulkdata/OperationDefinition/import")
        .setDocumentation("Bulk import as Azure API for FHIR offers it (POST a Parameters: inputFormat"
            + " application/fhir+ndjson, mode InitialLoad or IncrementalLoad, input parts with type and url);"
            + " inputs from this server's import folder (docs/import.md).");
  }

  private static List<String> prefer(Context ctx) {
    List<String> tokens = new ArrayList<>();
    for (String header : Collections.list(ctx.req().getHeaders("Prefer"))) {
      for (String t : header.split("[,;]")) {
        if (!t.isBlank()) {
          tokens.add(t.trim().toLowerCase(Locale.ROOT).replace(" ", ""));
        }
      }
    }
    return tokens;
  }

  private static UUID id(Context ctx) {
    try {
      return UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw notFound(ctx);
    }
  }

  private static FhirException notFound(Context ctx) {
    return FhirException.notFound("There is no import " + ctx.pathParam("id") + " (never started, or cancelled)");
  }
}

package dev.sluice.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.sluice.export.ExportJobList;
import dev.sluice.auth.Caller;
import dev.sluice.export.ExportJobs;
import dev.sluice.export.ExportLevel;
import dev.sluice.export.ExportRequest;
import dev.sluice.export.ExportStatus;
import dev.sluice.export.LocalOutputStore;
import dev.sluice.export.Preferences;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.OperationOutcomeJson;
import io.javalin.http.Context;
import org.hl7.fhir.r4.model.CapabilityStatement;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;

/**
 * Bulk Data {@code $export}: kick-off at the three levels (GET and POST), status and manifest,
 * cancel, and downloads of files in the local store.
 */
final class ExportRoutes {
  private final ExportJobs exports;
  private final ExportParams params;
  private final Responses responses;
  private final BaseUrl baseUrl;
  private final Optional<LocalOutputStore> localFiles;

  /** @param localFiles the local store whose files this server serves; empty when files go elsewhere */
  ExportRoutes(ExportJobs exports, ExportParams params, Responses responses, BaseUrl baseUrl,
      Optional<LocalOutputStore> localFiles) {
    this.exports = exports;
    this.params = params;
    this.responses = responses;
    this.baseUrl = baseUrl;
    this.localFiles = localFiles;
  }

  void system(Context ctx, Caller caller) {
    kickOff(ctx, caller, new ExportLevel.System());
  }

  void patients(Context ctx, Caller caller) {
    kickOff(ctx, caller, new ExportLevel.Patients());
  }

  void group(Context ctx, Caller caller) {
    String id = ctx.pathParam("id");
    if (!dev.sluice.fhir.FhirModel.isValidId(id)) {
      throw FhirException.badRequest("'" + id + "' is not a valid Group id", "id");
    }
    kickOff(ctx, caller, new ExportLevel.Group(id));
  }

  private void kickOff(Context ctx, Caller caller, ExportLevel level) {
    List<String> prefer = prefer(ctx);
    if (exports.requireAsyncHeaders()) {
      String accept = ctx.header("Accept");
      if (accept == null || !accept.toLowerCase(Locale.ROOT).contains("application/fhir+json")) {
        throw FhirException.badRequest("$export needs the header 'Accept: application/fhir+json' (got "
            + (accept == null ? "none" : "'" + accept + "'") + ")", "Accept");
      }
      if (!prefer.contains("respond-async")) {
        throw FhirException.badRequest("$export runs asynchronously and needs the header 'Prefer: respond-async'",
            "Prefer");
      }
    }
    Preferences preferences = preferences(prefer);
    var raw = ctx.method().name().equals("POST")
        ? params.fromBody(ctx.bodyAsBytes(), Negotiation.requestFormat(ctx), ctx.queryParamMap())
        : ExportParams.fromQuery(ctx.queryParamMap());
    String base = baseUrl.of(ctx);
    String query = ctx.queryString();
    String requestUrl = base + ctx.path().substring("/fhir".length()) + (query == null ? "" : "?" + query);
    ExportRequest request = params.parse(level, raw, preferences, requestUrl);
    UUID job = exports.kickOff(request, caller);
    ctx.status(202);
    ctx.header("Content-Location", base + "/_operations/export/" + job);
    List<String> applied = new ArrayList<>();
    if (preferences.lenient()) {
      applied.add("handling=lenient");
    }
    if (preferences.separateStatus()) {
      applied.add(SEPARATE_STATUS);
    }
    if (preferences.manifest() == Preferences.ManifestVersion.STU4) {
      applied.add(MANIFEST_STU4);
    }
    if (!applied.isEmpty()) {
      ctx.header("Preference-Applied", String.join(", ", applied));
    }
    // JSON whatever the Accept header says: it may name the NDJSON of the files
    ctx.contentType("application/fhir+json;charset=utf-8");
    ctx.result(OperationOutcomeJson.of(Issue.information(
        "Export " + job + " accepted; poll the Content-Location for its status")
        .withMessage(MessageCode.EXPORT_ACCEPTED)));
  }

  /** The three export operations, with their canonical definitions, for the CapabilityStatement. */
  static void declare(CapabilityStatement cs) {
    String ig = "http://hl7.org/fhir/uv/bulkdata/";
    cs.addInstantiates(ig + "CapabilityStatement/bulk-data");
    var rest = cs.getRestFirstRep();
    rest.addOperation().setName("export").setDefinition(ig + "OperationDefinition/export")
        .setDocumentation(DOCUMENTATION);
    for (var resource : rest.getResource()) {
      switch (resource.getType()) {
        case "Patient" -> resource.addOperation().setName("export")
            .setDefinition(ig + "OperationDefinition/patient-export").setDocumentation(DOCUMENTATION);
        case "Group" -> resource.addOperation().setName("export")
            .setDefinition(ig + "OperationDefinition/group-export").setDocumentation(DOCUMENTATION);
        default -> { }
      }
    }
  }

  private static final String DOCUMENTATION = "Bulk Data export (STU2, STU3, and STU4's kick-off forms; GET or POST with"
      + " Parameters, repeated values or comma lists). Parameters: _outputFormat (application/fhir+ndjson,"
      + " application/ndjson, ndjson), _since, _until (alias _till), _type, _typeFilter (OR'ed per type), _elements,"
      + " _container, patient (Patient and Group level), _anonymizationConfig and _anonymizationConfigEtag"
      + " (de-identified export with a FHIR Tools for Anonymization configuration from the store's 'anonymization'"
      + " container; needs _container), allowPartialManifests (a running job's status carries the files done"
      + " so far in pages that never change, linked by next), includeAssociatedData (code or STU4 Coding, every"
      + " level): _history (earlier versions in <Type>-history files), _deleted (deleted resources with Azure's"
      + " soft-delete marker in <Type>-deleted files), LatestProvenanceResources and RelevantProvenanceResources (the"
      + " latest, or every, Provenance whose target is an exported resource, in Provenance files), organizeOutputBy=Patient (Patient and Group level: files of blocks, each a"
      + " header Parameters, the Patient and the rest of its compartment; outputOrganizedBy and continuesInFile in the"
      + " manifest)."
      + " Not supported (400, or left out under lenient handling): other includeAssociatedData values, includeAssociatedData"
      + " with organizeOutputBy, organizeOutputBy other than Patient or at system level."
      + " Prefer: respond-async; handling=lenient leaves out unknown parameters, _typeFilter queries it cannot apply"
      + " and patients that do not exist, and reports them as warnings in the error files; separate-export-status"
      + " (the status call answers 200 and the job's status is in X-Export-Status); bulk-manifest=stu4 (STU4's"
      + " manifest: manifestType, outputFormat, outcome)."
      + " Files: one type per file, a new file past 64 MB or a resource count (configurable)."
      + " Group level: the Patient members (nested Groups followed, inactive members and members outside their period"
      + " left out) and their compartments; with _since, only resources changed since then.";

  /** The Prefer token of STU3's status codes of the status call itself. */
  static final String SEPARATE_STATUS = "separate-export-status";
  /** Sluice's Prefer token for STU4's manifest (docs/export.md, "Versions of the guide"). */
  static final String MANIFEST_STU4 = "bulk-manifest=stu4";

  private static Preferences preferences(List<String> prefer) {
    return new Preferences(prefer.contains("handling=lenient"), prefer.contains(SEPARATE_STATUS),
        prefer.contains(MANIFEST_STU4) ? Preferences.ManifestVersion.STU4 : Preferences.ManifestVersion.STU3, false);
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

  /**
   * The job's state as the status call's HTTP code, or, when the kick-off asked for
   * {@code Prefer: separate-export-status}, as {@code X-Export-Status} with the call's own 200.
   */
  void status(Context ctx, Caller caller) {
    answer(ctx, exports.status(id(ctx), caller, baseUrl.of(ctx)).orElseThrow(() -> notFound(ctx)));
  }

  /** {@code GET [base]/_operations/export/{id}/manifest/{page}}: a page of a partial manifest, answered as a status. */
  void page(Context ctx, Caller caller) {
    int page;
    try {
      page = Integer.parseInt(ctx.pathParam("page"));
    } catch (NumberFormatException e) {
      page = 0;
    }
    if (page < 1) {
      throw FhirException.notFound("Export " + ctx.pathParam("id") + " has no manifest page '" + ctx.pathParam("page") + "'");
    }
    int asked = page;
    answer(ctx, exports.page(id(ctx), page, caller, baseUrl.of(ctx)).orElseThrow(() -> FhirException.notFound(
        "Export " + ctx.pathParam("id") + " has no manifest page " + asked + " (yet)")));
  }

  private void answer(Context ctx, ExportJobs.Polled polled) {
    boolean separate = polled.preferences().separateStatus();
    int jobStatus = switch (polled.status()) {
      case ExportStatus.Queued q -> {
        ctx.header("X-Progress", "queued: waiting for transactions in progress at kick-off, or for running exports");
        ctx.header("Retry-After", Long.toString(q.retryAfter().toSeconds()));
        yield 202;
      }
      case ExportStatus.Running r -> {
        ctx.header("X-Progress", r.percent() + "% (" + r.partsDone() + " of " + r.parts() + " parts, "
            + r.resources() + " resources written)");
        ctx.header("Retry-After", Long.toString(r.retryAfter().toSeconds()));
        yield 202;
      }
      case ExportStatus.Partial p -> {
        ExportStatus.Running r = p.progress();
        ctx.header("X-Progress", r.percent() + "% (" + r.partsDone() + " of " + r.parts() + " parts, "
            + r.resources() + " resources written)");
        ctx.header("Retry-After", Long.toString(r.retryAfter().toSeconds()));
        ctx.contentType("application/json");
        ctx.result(p.manifest());
        yield 202;
      }
      case ExportStatus.Completed c -> {
        ctx.header("Expires", DateTimeFormatter.RFC_1123_DATE_TIME.format(c.expires().atOffset(ZoneOffset.UTC)));
        ctx.contentType("application/json");
        ctx.result(c.manifest());
        yield 200;
      }
      case ExportStatus.Failed f -> {
        if (!separate) {
          throw new FhirException(f.status(), f.issue());
        }
        ctx.contentType("application/fhir+json;charset=utf-8");
        ctx.result(OperationOutcomeJson.of(f.issue()));
        yield f.status();
      }
    };
    if (separate) {
      ctx.header("X-Export-Status", Integer.toString(jobStatus));
      ctx.header("Preference-Applied", SEPARATE_STATUS);
    }
    ctx.status(separate ? 200 : jobStatus);
  }

  /** Largest and default page of the list of jobs. */
  private static final int MAX_LIST = 500;
  private static final int DEFAULT_LIST = 50;
  private static final JsonFactory JSON = new JsonFactory();

  /**
   * {@code GET [base]/_operations/export}: the export jobs, newest first, as a searchset Bundle
   * of Parameters, one per job (docs/export.md, "The list of jobs").
   */
  void list(Context ctx, Caller caller) throws IOException {
    int count = DEFAULT_LIST;
    String countParam = ctx.queryParam("_count");
    if (countParam != null) {
      try {
        count = Integer.parseInt(countParam.trim());
      } catch (NumberFormatException e) {
        count = 0;
      }
      if (count < 1 || count > MAX_LIST) {
        throw FhirException.badRequest("_count must be a number from 1 to " + MAX_LIST + ", got '" + countParam + "'",
            "_count");
      }
    }
    ExportJobList page = exports.list(ctx.queryParam("_cursor"), count, caller);
    String base = baseUrl.of(ctx);
    String self = base + "/_operations/export?_count=" + count;
    ByteArrayOutputStream out = new ByteArrayOutputStream(1024 + 512 * page.jobs().size());
    try (JsonGenerator g = JSON.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("resourceType", "Bundle");
      g.writeStringField("type", "searchset");
      g.writeArrayFieldStart("link");
      link(g, "self", self + (ctx.queryParam("_cursor") == null ? "" : "&_cursor=" + ctx.queryParam("_cursor")));
      if (page.next().isPresent()) {
        link(g, "next", self + "&_cursor=" + page.next().get());
      }
      g.writeEndArray();
      g.writeArrayFieldStart("entry");
      for (ExportJobList.Job job : page.jobs()) {
        g.writeStartObject();
        g.writeStringField("fullUrl", base + "/_operations/export/" + job.id());
        g.writeObjectFieldStart("resource");
        g.writeStringField("resourceType", "Parameters");
        g.writeArrayFieldStart("parameter");
        parameter(g, "id", "valueString", job.id().toString());
        parameter(g, "status", "valueCode", job.status());
        parameter(g, "level", "valueCode", job.level());
        parameter(g, "request", "valueUri", job.request());
        parameter(g, "progress", "valueString", (job.parts() == 0 ? 0 : job.partsDone() * 100 / job.parts())
            + "% (" + job.partsDone() + " of " + job.parts() + " parts, " + job.resources() + " resources written)");
        g.writeStartObject();
        g.writeStringField("name", "resourcesWritten");
        g.writeNumberField("valueDecimal", job.resources());
        g.writeEndObject();
        parameter(g, "created", "valueInstant", job.created().toString());
        if (job.expires() != null) {
          parameter(g, "expires", "valueInstant", job.expires().toString());
        }
        if (job.error() != null) {
          parameter(g, "error", "valueString", job.error());
        }
        g.writeEndArray();
        g.writeEndObject();
        g.writeObjectFieldStart("search");
        g.writeStringField("mode", "match");
        g.writeEndObject();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeEndObject();
    }
    responses.send(ctx, 200, out.toByteArray());
  }

  private static void link(JsonGenerator g, String relation, String url) throws IOException {
    g.writeStartObject();
    g.writeStringField("relation", relation);
    g.writeStringField("url", url);
    g.writeEndObject();
  }

  private static void parameter(JsonGenerator g, String name, String valueType, String value) throws IOException {
    g.writeStartObject();
    g.writeStringField("name", name);
    g.writeStringField(valueType, value);
    g.writeEndObject();
  }

  void cancel(Context ctx, Caller caller) {
    UUID id = id(ctx);
    if (!exports.cancel(id, caller)) {
      throw notFound(ctx);
    }
    responses.outcome(ctx, 202, List.of(Issue.information("Export " + id + " cancelled; its files are removed")
        .withMessage(MessageCode.EXPORT_CANCELLED)));
  }

  void download(Context ctx, Caller caller) throws IOException {
    UUID id = id(ctx);
    String name = ctx.pathParam("file");
    String container = exports.downloadableContainer(id, name, caller).orElseThrow(() -> notFound(ctx));
    if (localFiles.isEmpty()) {
      throw FhirException.notFound("Export " + id + " has no file " + name + " to download here");
    }
    Path path;
    try {
      path = localFiles.get().path(container, id, name);
    } catch (IllegalArgumentException e) {
      throw FhirException.notFound("Export " + id + " has no file '" + name + "'");
    }
    if (!Files.isRegularFile(path)) {
      throw FhirException.notFound("Export " + id + " has no file '" + name + "'");
    }
    String range = ctx.header("Range");
    ctx.header("Vary", "Accept-Encoding");
    ctx.contentType("application/fhir+ndjson");
    if (range == null && acceptsGzip(ctx.header("Accept-Encoding"))) {
      // compressed once, on the first such request, and then served as a file like the plain one
      Path copy;
      try {
        copy = localFiles.get().gzipped(container, id, name);
      } catch (java.nio.file.NoSuchFileException e) {
        // removed since the check above: the job was cancelled or expired meanwhile
        throw FhirException.notFound("Export " + id + " has no file '" + name + "'");
      }
      ctx.status(200);
      ctx.header("Content-Encoding", "gzip");
      FileRegion.send(ctx.res(), copy, 0, Files.size(copy));
      return;
    }
    long size = Files.size(path);
    long from = 0;
    long to = size - 1;
    ctx.header("Accept-Ranges", "bytes");
    if (range != null) {
      // one range of bytes, for resumed downloads: "bytes=a-b", "bytes=a-" or "bytes=-n"
      var m = java.util.regex.Pattern.compile("bytes=(\\d*)-(\\d*)").matcher(range.trim());
      if (!m.matches() || (m.group(1).isEmpty() && m.group(2).isEmpty())) {
        throw new FhirException(416, Issue.error(Issue.Code.INVALID, "Range '" + range + "' is not one byte range", "Range"));
      }
      try {
        if (m.group(1).isEmpty()) {
          from = Math.max(0, size - Long.parseLong(m.group(2)));
        } else {
          from = Long.parseLong(m.group(1));
          to = m.group(2).isEmpty() ? size - 1 : Math.min(size - 1, Long.parseLong(m.group(2)));
        }
      } catch (NumberFormatException e) {
        // more digits than a long holds: far past any file this server writes
        from = size;
      }
      if (from > to || from >= size) {
        ctx.header("Content-Range", "bytes */" + size);
        throw new FhirException(416, Issue.error(Issue.Code.INVALID, "Range '" + range + "' lies outside the file of " + size
            + " bytes", "Range"));
      }
      ctx.status(206);
      ctx.header("Content-Range", "bytes " + from + "-" + to + "/" + size);
    } else {
      ctx.status(200);
    }
    FileRegion.send(ctx.res(), path, from, to - from + 1);
  }

  /** True when the client names gzip (or x-gzip) without {@code q=0}. */
  static boolean acceptsGzip(String acceptEncoding) {
    if (acceptEncoding == null) {
      return false;
    }
    for (String coding : acceptEncoding.split(",")) {
      String[] parts = coding.split(";");
      String token = parts[0].trim().toLowerCase(Locale.ROOT);
      if (!token.equals("gzip") && !token.equals("x-gzip")) {
        continue;
      }
      boolean refused = false;
      for (int i = 1; i < parts.length; i++) {
        String p = parts[i].trim().toLowerCase(Locale.ROOT).replace(" ", "");
        if (p.startsWith("q=")) {
          refused = p.substring(2).matches("0(\\.0{0,3})?");
        }
      }
      if (!refused) {
        return true;
      }
    }
    return false;
  }

  private static UUID id(Context ctx) {
    try {
      return UUID.fromString(ctx.pathParam("id"));
    } catch (IllegalArgumentException e) {
      throw notFound(ctx);
    }
  }

  private static FhirException notFound(Context ctx) {
    return FhirException.notFound("There is no export " + ctx.pathParam("id")
        + " (never started, cancelled, or its files expired)");
  }
}

package dev.sluice.http;

import dev.sluice.auth.Access;
import dev.sluice.auth.Caller;
import dev.sluice.auth.Interaction;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.store.HistoryCursor;
import dev.sluice.store.HistoryPage;
import dev.sluice.store.ResourceStore;
import dev.sluice.store.StoredResource;
import io.javalin.http.Context;
import java.time.Instant;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;

/** The RESTful interactions on single resources and history: create, read, vread, update, delete. */
final class ResourceRoutes {
  static final int DEFAULT_COUNT = 50;
  static final int MAX_COUNT = 1000;

  private final FhirModel fhir;
  private final ResourceStore store;
  private final ConditionalMatch conditional;
  private final Responses responses;
  private final BaseUrl baseUrl;
  private final ScopeConstraints constraints;

  ResourceRoutes(FhirModel fhir, ResourceStore store, ConditionalMatch conditional, Responses responses,
      BaseUrl baseUrl, ScopeConstraints constraints) {
    this.constraints = constraints;
    this.fhir = fhir;
    this.store = store;
    this.conditional = conditional;
    this.responses = responses;
    this.baseUrl = baseUrl;
  }

  void create(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.CREATE, type);
    IBaseResource resource = parseBody(ctx, type);
    String ifNoneExist = ctx.header("If-None-Exist");
    if (ifNoneExist != null) {
      caller.requireWhole(Interaction.SEARCH, type);
      Optional<StoredResource> existing = conditional.find(type, ifNoneExist, "If-None-Exist", baseUrl.of(ctx));
      if (existing.isPresent()) {
        respondWrite(ctx, 200, existing.get());
        return;
      }
    }
    byte[] json = jsonBody(ctx);
    StoredResource stored = store.write(tx -> tx.create(type, resource, json));
    respondWrite(ctx, 201, stored);
  }

  /**
   * Conditional update ({@code PUT [base]/Type?criteria}): no match creates (with the body's id
   * when it has one), one match is updated, several answer 412.
   */
  void conditionalUpdate(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.UPDATE, type);
    caller.requireWhole(Interaction.SEARCH, type);
    IBaseResource resource = parseBody(ctx, type);
    String criteria = ctx.queryString() == null ? "" : ctx.queryString();
    String id = conditional.updateId(type, criteria, "url", baseUrl.of(ctx), resource.getIdElement().getIdPart(), type + ".id");
    writeUpdate(ctx, type, id, resource);
  }

  /**
   * Conditional delete ({@code DELETE [base]/Type?criteria}), single-match flavour: no match
   * answers 204, one match is deleted, several answer 412.
   */
  void conditionalDelete(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.DELETE, type);
    caller.requireWhole(Interaction.SEARCH, type);
    String criteria = ctx.queryString() == null ? "" : ctx.queryString();
    Optional<StoredResource> match = conditional.find(type, criteria, "url", baseUrl.of(ctx));
    Integer ifMatch = Params.etagVersion(ctx.header("If-Match"), "If-Match");
    if (match.isPresent()) {
      String id = match.get().id();
      store.write(tx -> tx.delete(type, id, ifMatch)).ifPresent(d -> ctx.header("ETag", d.etag()));
    }
    ctx.status(204);
  }

  void update(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.UPDATE, type);
    String id = FhirModel.requireId(ctx.pathParam("id"));
    IBaseResource resource = parseBody(ctx, type);
    String bodyId = resource.getIdElement().getIdPart();
    if (bodyId == null) {
      throw FhirException.badRequest("The resource in an update must carry the id of the URL (" + id + ")", type + ".id");
    }
    if (!bodyId.equals(id)) {
      throw FhirException.badRequest(
          "The resource id '" + bodyId + "' does not match the id '" + id + "' in the URL", type + ".id");
    }
    writeUpdate(ctx, type, id, resource);
  }

  void delete(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.DELETE, type);
    String id = FhirModel.requireId(ctx.pathParam("id"));
    Integer ifMatch = Params.etagVersion(ctx.header("If-Match"), "If-Match");
    Optional<StoredResource> deleted = store.write(tx -> tx.delete(type, id, ifMatch));
    deleted.ifPresent(d -> ctx.header("ETag", d.etag()));
    ctx.status(204);
  }

  void read(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    String id = FhirModel.requireId(ctx.pathParam("id"));
    if (caller.require(Interaction.READ, type) instanceof Access.Narrowed narrowed
        && !constraints.admits(type, id, narrowed.constraints(), baseUrl.of(ctx))) {
      throw Caller.forbidden(type + "/" + id + " lies outside the search constraints of the token's scopes ("
          + String.join(", ", narrowed.constraints()) + ")");
    }
    StoredResource r = store.read(type, id)
        .orElseThrow(() -> FhirException.notFound("Resource " + type + "/" + id + " is not known"));
    if (r.deleted()) {
      throw FhirException.gone("Resource " + type + "/" + id + " was deleted (version " + r.version() + ")");
    }
    Integer notMatch = Params.etagVersion(ctx.header("If-None-Match"), "If-None-Match");
    Responses.versionHeaders(ctx, baseUrl.of(ctx), r, false);
    if (notMatch != null && notMatch == r.version()) {
      ctx.status(304);
      return;
    }
    responses.send(ctx, 200, r.content());
  }

  void vread(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.VREAD, type);
    String id = FhirModel.requireId(ctx.pathParam("id"));
    int version;
    try {
      version = Integer.parseInt(ctx.pathParam("vid"));
    } catch (NumberFormatException e) {
      throw FhirException.badRequest("Version '" + ctx.pathParam("vid") + "' is not a number", "vid");
    }
    StoredResource r = store.vread(type, id, version)
        .orElseThrow(() -> FhirException.notFound("Version " + version + " of " + type + "/" + id + " is not known"));
    if (r.deleted()) {
      throw FhirException.gone("Version " + version + " of " + type + "/" + id + " is a deletion");
    }
    Responses.versionHeaders(ctx, baseUrl.of(ctx), r, false);
    responses.send(ctx, 200, r.content());
  }

  void instanceHistory(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.HISTORY, type);
    String id = FhirModel.requireId(ctx.pathParam("id"));
    if (store.read(type, id).isEmpty()) {
      throw FhirException.notFound("Resource " + type + "/" + id + " is not known");
    }
    history(ctx, type, id);
  }

  void typeHistory(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    caller.requireWhole(Interaction.HISTORY, type);
    history(ctx, type, null);
  }

  void systemHistory(Context ctx, Caller caller) {
    // every type's changes: only a scope on all types ("system/*.read") allows it
    caller.requireWhole(Interaction.HISTORY, "*");
    history(ctx, null, null);
  }

  private void history(Context ctx, String type, String id) {
    int count = Params.count(ctx, DEFAULT_COUNT, MAX_COUNT);
    Instant since = Params.instant(ctx, "_since");
    Instant at = Params.instant(ctx, "_at");
    HistoryCursor after = null;
    String cursor = ctx.queryParam("_cursor");
    if (cursor != null) {
      try {
        after = HistoryCursor.decode(cursor);
      } catch (IllegalArgumentException e) {
        throw FhirException.badRequest("_cursor is not a paging token issued by this server", "_cursor");
      }
    }
    HistoryPage page = store.history(type, id, since, at, count, after);
    String base = baseUrl.of(ctx);
    String self = base + (type == null ? "" : "/" + type) + (id == null ? "" : "/" + id) + "/_history";
    BundleWriter bundle = new BundleWriter("history", null);
    bundle.link("self", self + SearchRoutes.query(ctx.queryParamMap(), null));
    if (page.next() != null) {
      bundle.link("next", self + SearchRoutes.query(ctx.queryParamMap(), page.next().encode()));
    }
    for (HistoryPage.HistoryEntry e : page.entries()) {
      StoredResource r = e.resource();
      String method = r.deleted() ? "DELETE" : r.version() == 1 ? "POST" : "PUT";
      String url = r.version() == 1 && !r.deleted() ? r.type() : r.relativeUrl();
      String status = r.deleted() ? "204" : r.version() == 1 ? "201" : "200";
      bundle.entry(BundleWriter.Entry.history(base + "/" + r.relativeUrl(), r.content(), method, url, status, r.etag(),
          r.lastUpdated()));
    }
    responses.send(ctx, 200, bundle.finish());
  }

  /** Writes an update (a create when the id is new) under the request's If-Match, and answers it. */
  private void writeUpdate(Context ctx, String type, String id, IBaseResource resource) {
    Integer ifMatch = Params.etagVersion(ctx.header("If-Match"), "If-Match");
    byte[] json = jsonBody(ctx);
    StoredResource stored = store.write(tx -> tx.update(type, id, resource, ifMatch, json));
    respondWrite(ctx, stored.created() ? 201 : 200, stored);
  }

  private void respondWrite(Context ctx, int status, StoredResource stored) {
    Responses.versionHeaders(ctx, baseUrl.of(ctx), stored, true);
    String prefer = ctx.header("Prefer");
    if (prefer != null && prefer.contains("return=minimal")) {
      ctx.status(status);
      return;
    }
    responses.send(ctx, status, stored.content());
  }

  IBaseResource parseBody(Context ctx, String type) {
    Format format = Negotiation.requestFormat(ctx);
    IBaseResource resource = fhir.parse(ctx.bodyAsBytes(), format);
    String bodyType = fhir.context().getResourceType(resource);
    if (!bodyType.equals(type)) {
      throw FhirException.badRequest(
          "The body is a " + bodyType + " but the URL is for " + type, "resourceType");
    }
    return resource;
  }

  /** The body when it is JSON (stored as sent, re-stamped), else null (the model is encoded). */
  private static byte[] jsonBody(Context ctx) {
    return Negotiation.requestFormat(ctx) == Format.JSON ? ctx.bodyAsBytes() : null;
  }

}

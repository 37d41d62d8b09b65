package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import dev.sluice.store.ResourceStore;
import io.javalin.http.Context;

/** {@code GET [base]/Type}: the resources of a type, paged; {@code _summary=count} for the total. */
final class TypeListing {
  private final ResourceStore store;
  private final Responses responses;
  private final BaseUrl baseUrl;
  private final ResourceRoutes resources;

  TypeListing(ResourceStore store, Responses responses, BaseUrl baseUrl, ResourceRoutes resources) {
    this.store = store;
    this.responses = responses;
    this.baseUrl = baseUrl;
    this.resources = resources;
  }

  void list(Context ctx) {
    String type = resources.knownType(ctx.pathParam("type"));
    if ("count".equals(ctx.queryParam("_summary"))) {
      BundleWriter bundle = new BundleWriter("searchset", store.count(type));
      bundle.link("self", baseUrl.of(ctx) + "/" + type + "?_summary=count");
      responses.send(ctx, 200, bundle.finish());
      return;
    }
    throw FhirException.notSupported("Search is not available yet", type);
  }
}

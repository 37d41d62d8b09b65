package dev.sluice.http;

import dev.sluice.fhir.Issue;
import ca.uhn.fhir.parser.IParser;
import dev.sluice.auth.Access;
import dev.sluice.auth.Caller;
import dev.sluice.auth.Interaction;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.StrictUtf8;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.search.Criterion;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import dev.sluice.store.ResourceSearch;
import dev.sluice.store.SearchCursor;
import dev.sluice.store.StoredResource;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.Resource;

/**
 * FHIR search over HTTP: {@code GET [base]/Type?...}, {@code POST [base]/Type/_search}
 * (form body) and Patient compartment search {@code GET [base]/Patient/id/Type?...}. Pages
 * are searchset Bundles with the stored bytes spliced in, linked by keyset cursors.
 */
final class SearchRoutes {
  private static final String SUBSETTED_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

  private final FhirModel fhir;
  private final SearchParser parser;
  private final ResourceSearch search;
  private final PatientCompartment compartment;
  private final Responses responses;
  private final BaseUrl baseUrl;
  private final ScopeConstraints constraints;

  SearchRoutes(FhirModel fhir, SearchParser parser, ResourceSearch search, PatientCompartment compartment,
      Responses responses, BaseUrl baseUrl, ScopeConstraints constraints) {
    this.constraints = constraints;
    this.fhir = fhir;
    this.parser = parser;
    this.search = search;
    this.compartment = compartment;
    this.responses = responses;
    this.baseUrl = baseUrl;
  }

  void searchType(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    search(ctx, caller, type, ctx.queryParamMap(), null, type);
  }

  void searchPost(Context ctx, Caller caller) {
    String type = fhir.requireType(ctx.pathParam("type"));
    String contentType = ctx.header("Content-Type");
    if (contentType != null && !contentType.startsWith("application/x-www-form-urlencoded")) {
      throw new FhirException(415, dev.sluice.fhir.Issue.error(Issue.Code.NOT_SUPPORTED,
          "POST _search takes a form body (application/x-www-form-urlencoded), not " + contentType, "Content-Type"));
    }
    // as the query string is checked before routing (FhirServer): a bad escape would drop its parameter
    String form = StrictUtf8.decode(ctx.bodyAsBytes()).orElseThrow(() ->
        FhirException.badRequest("The form body holds bytes that are not UTF-8", "url"));
    Params.requireDecodable(form, "form body");
    Map<String, List<String>> params = new LinkedHashMap<>(ctx.queryParamMap());
    ctx.formParamMap().forEach((name, values) -> params.merge(name, values,
        (a, b) -> Stream.concat(a.stream(), b.stream()).toList()));
    search(ctx, caller, type, params, null, type);
  }

  void searchCompartment(Context ctx, Caller caller) {
    String patientId = FhirModel.requireId(ctx.pathParam("id"));
    String type = fhir.requireType(ctx.pathParam("type"));
    if (!compartment.applies(type)) {
      throw FhirException.badRequest(type + " resources are never in a Patient compartment", type);
    }
    search(ctx, caller, type, ctx.queryParamMap(), patientId, "Patient/" + patientId + "/" + type);
  }

  private void search(Context ctx, Caller caller, String type, Map<String, List<String>> params, String patientId,
      String path) {
    Access access = caller.require(Interaction.SEARCH, type);
    String prefer = ctx.header("Prefer");
    boolean lenient = prefer != null && prefer.contains("handling=lenient");
    String base = baseUrl.of(ctx);
    SearchQuery query = parser.withBase(base).parse(type, params, lenient);
    query.criteria().forEach(c -> requireSearchable(caller, c));
    if (access instanceof Access.Narrowed narrowed) {
      query = constraints.narrow(query, narrowed.constraints(), base);
    }
    if (patientId != null) {
      query = query.and(new Criterion.InCompartment(patientId));
    }
    String self = base + "/" + path + query(params, null);
    if (query.summaryCount()) {
      BundleWriter bundle = new BundleWriter("searchset", search.count(query));
      bundle.link("self", self);
      outcome(bundle, query);
      responses.send(ctx, 200, bundle.finish());
      return;
    }
    int count = query.count() == null ? ResourceRoutes.DEFAULT_COUNT : query.count();
    SearchCursor cursor = cursor(params);
    Long total = query.total() == SearchQuery.Total.NONE && count > 0 ? null : search.count(query);
    BundleWriter bundle = new BundleWriter("searchset", total);
    bundle.link("self", self);
    if (count == 0) {
      outcome(bundle, query);
      responses.send(ctx, 200, bundle.finish());
      return;
    }
    ResourceSearch.Page page = search.page(query, count, cursor);
    if (page.next() != null) {
      bundle.link("next", base + "/" + path + query(params, page.next().encode()));
    }
    if (page.previous() != null) {
      bundle.link("previous", base + "/" + path + query(params, page.previous().encode()));
    }
    for (ResourceSearch.Found f : page.matches()) {
      StoredResource r = f.resource();
      bundle.entry(BundleWriter.Entry.match(base + "/" + r.relativeUrl(), elements(query, r)));
    }
    for (StoredResource r : page.included()) {
      if (!caller.mayWhole(Interaction.READ, r.type())) {
        // _include and _revinclude never hand out a type the token cannot read
        continue;
      }
      bundle.entry(BundleWriter.Entry.include(base + "/" + r.relativeUrl(), r.content()));
    }
    outcome(bundle, query);
    responses.send(ctx, 200, bundle.finish());
  }

  /**
   * Chains and {@code _has} search other types: what they match would tell what those
   * resources hold, so the caller must be allowed to search them whole.
   */
  private static void requireSearchable(Caller caller, Criterion criterion) {
    switch (criterion) {
      case Criterion.Chain chain -> {
        List<String> targets = chain.targetType() != null ? List.of(chain.targetType())
            : chain.reference().targets().isEmpty() ? List.of("*") : chain.reference().targets();
        targets.forEach(t -> caller.requireWhole(Interaction.SEARCH, t));
        requireSearchable(caller, chain.inner());
      }
      case Criterion.Has has -> {
        caller.requireWhole(Interaction.SEARCH, has.sourceType());
        requireSearchable(caller, has.inner());
      }
      case Criterion.AnyOf any -> any.anyOf().forEach(c -> requireSearchable(caller, c));
      case Criterion.Ids ids -> { }
      case Criterion.Match match -> { }
      case Criterion.Missing missing -> { }
      case Criterion.InCompartment in -> { }
    }
  }

  private void outcome(BundleWriter bundle, SearchQuery query) {
    if (!query.issues().isEmpty()) {
      bundle.entry(BundleWriter.Entry.outcome(OperationOutcomeJson.of(query.issues())));
    }
  }

  /** The stored bytes, or with {@code _elements} the resource cut down to those elements and marked SUBSETTED. */
  private byte[] elements(SearchQuery query, StoredResource r) {
    if (query.elements().isEmpty()) {
      return r.content();
    }
    Resource resource = (Resource) fhir.parse(r.content(), Format.JSON);
    resource.getMeta().addTag(SUBSETTED_SYSTEM, "SUBSETTED", "subsetted");
    Set<String> names = new LinkedHashSet<>();
    names.add(r.type() + ".id");
    names.add(r.type() + ".meta");
    query.elements().forEach(e -> names.add(r.type() + "." + e));
    IParser json = fhir.context().newJsonParser();
    json.setEncodeElements(names);
    return json.encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
  }

  private static SearchCursor cursor(Map<String, List<String>> params) {
    List<String> values = params.get("_cursor");
    if (values == null || values.isEmpty()) {
      return null;
    }
    try {
      return SearchCursor.decode(values.getFirst());
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest("_cursor is not a paging token issued by this server", "_cursor");
    }
  }

  /** The search's parameters (without a cursor), plus {@code cursor} when given. */
  static String query(Map<String, List<String>> params, String cursor) {
    StringBuilder q = new StringBuilder();
    params.forEach((name, values) -> {
      if (name.equals("_cursor")) {
        return;
      }
      for (String v : values) {
        q.append(q.isEmpty() ? '?' : '&').append(enc(name)).append('=').append(enc(v));
      }
    });
    if (cursor != null) {
      q.append(q.isEmpty() ? '?' : '&').append("_cursor=").append(cursor);
    }
    return q.toString();
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}

package dev.sluice.http;

import dev.sluice.auth.Caller;
import dev.sluice.fhir.FhirException;
import dev.sluice.search.Criterion;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import dev.sluice.store.ResourceSearch;
import java.util.ArrayList;
import java.util.List;

/**
 * SMART v2 search-constrained scopes ({@code system/Observation.rs?category=laboratory}) applied
 * to what a request returns: their criteria are added to a search, and a read is allowed only
 * of a resource they select.
 */
final class ScopeConstraints {
  private final SearchParser parser;
  private final ResourceSearch search;

  ScopeConstraints(SearchParser parser, ResourceSearch search) {
    this.parser = parser;
    this.search = search;
  }

  /**
   * The query narrowed to what one of the constraints selects.
   *
   * @throws FhirException 403 when the constraints cannot be expressed as one
   *     condition (several scopes with several criteria each) or are not a valid search
   */
  SearchQuery narrow(SearchQuery query, List<String> constraints, String base) {
    List<List<Criterion>> each = new ArrayList<>();
    for (String constraint : constraints) {
      each.add(criteria(query.type(), constraint, base));
    }
    if (each.size() == 1) {
      SearchQuery narrowed = query;
      for (Criterion c : each.getFirst()) {
        narrowed = narrowed.and(c);
      }
      return narrowed;
    }
    if (each.stream().allMatch(c -> c.size() == 1)) {
      return query.and(new Criterion.AnyOf(each.stream().map(List::getFirst).toList()));
    }
    throw Caller.forbidden("The token has several search-constrained scopes on " + query.type()
        + " with several criteria each; Sluice can apply several constraints only when each has one criterion");
  }

  /** Whether one of the constraints selects the current resource {@code type/id}. */
  boolean admits(String type, String id, List<String> constraints, String base) {
    SearchQuery byId = parser.withBase(base).parse(type, "_id=" + id);
    return search.count(narrow(byId, constraints, base)) > 0;
  }

  private List<Criterion> criteria(String type, String constraint, String base) {
    try {
      return parser.withBase(base).parse(type, constraint).criteria();
    } catch (FhirException e) {
      throw Caller.forbidden("The token's scope constraint '" + constraint + "' on " + type
          + " is not a search this server can run (" + e.getMessage() + "), so it allows nothing");
    }
  }
}

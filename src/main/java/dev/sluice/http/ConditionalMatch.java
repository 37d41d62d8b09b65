package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import dev.sluice.store.ResourceSearch;
import dev.sluice.store.ResourceStore;
import dev.sluice.store.StoredResource;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The search behind conditional create, update and delete (FHIR R4 http.html#ccreate,
 * #cond-update, #cdelete): criteria that must select at most one current resource. It runs
 * the ordinary search, before the write and outside its transaction, so the check and the
 * write are not atomic: two concurrent identical conditional creates can both create (FHIR
 * allows servers this).
 */
final class ConditionalMatch {
  private final SearchParser parser;
  private final ResourceSearch search;
  private final ResourceStore store;

  ConditionalMatch(SearchParser parser, ResourceSearch search, ResourceStore store) {
    this.parser = parser;
    this.search = search;
    this.store = store;
  }

  /**
   * @param criteria a search query string; a leading {@code Type?} or {@code ?} is dropped
   * @param where what carried the criteria (a header, a Bundle element), named in errors
   * @param requestBase the base the request reached the server under (references to it are local)
   * @return the one current resource the criteria select, empty when none does
   * @throws FhirException 400 for bad or no criteria, 412 when several resources match
   */
  Optional<StoredResource> find(String type, String criteria, String where, String requestBase) {
    String query = query(criteria);
    SearchQuery parsed;
    try {
      parsed = parser.withBase(requestBase).parse(type, query);
    } catch (FhirException e) {
      throw new FhirException(e.status(), e.issues().stream()
          .map(i -> i.rephrased(where + ": " + i.diagnostics(), i.expression() == null ? where : i.expression()))
          .toList(), e);
    }
    if (parsed.criteria().isEmpty()) {
      // without criteria every resource of the type would match: refused rather than guessed
      throw FhirException.badRequest(where + ": a conditional interaction needs at least one search criterion, got '"
          + criteria + "'", where);
    }
    List<ResourceSearch.Found> found = search.page(parsed, 2, null).matches();
    if (found.size() > 1) {
      throw FhirException.preconditionFailed(
          where + ": '" + criteria + "' matches more than one " + type + "; the criteria must select at most one");
    }
    return found.stream().map(ResourceSearch.Found::resource).findFirst();
  }

  /** The query string of criteria given as {@code Type?a=b}, {@code ?a=b} or {@code a=b}. */
  static String query(String criteria) {
    int question = criteria.indexOf('?');
    // a '?' after the first '=' is part of a value
    return question >= 0 && criteria.substring(0, question).indexOf('=') < 0
        ? criteria.substring(question + 1) : criteria;
  }

  /**
   * The id a conditional update writes: the match's, else the body's (update as create), else a
   * new one. A body id that names another resource than the match is refused (400), and so is
   * one that names a live resource the criteria did not select (409): the update would replace
   * a resource the client did not mean.
   *
   * @param bodyId the id in the resource sent, or null
   * @param idWhere the element that carries the body's id, named in errors
   */
  String updateId(String type, String criteria, String where, String requestBase, String bodyId, String idWhere) {
    if (bodyId != null && !FhirModel.isValidId(bodyId)) {
      // an update as create would store it: a resource no read could reach
      throw FhirException.badRequest(where + ": the resource id '" + bodyId
          + "' is not a valid id (1 to 64 letters, digits, '-' and '.')", idWhere);
    }
    Optional<StoredResource> match = find(type, criteria, where, requestBase);
    if (match.isPresent()) {
      if (bodyId != null && !bodyId.equals(match.get().id())) {
        throw FhirException.badRequest(where + ": the resource id '" + bodyId + "' is not the id of the " + type
            + " that '" + criteria + "' selects (" + match.get().id() + ")", idWhere);
      }
      return match.get().id();
    }
    if (bodyId == null) {
      return UUID.randomUUID().toString();
    }
    if (store.read(type, bodyId).filter(r -> !r.deleted()).isPresent()) {
      throw FhirException.conflict(where + ": the resource id '" + bodyId + "' names an existing " + type
          + " that '" + criteria + "' does not select");
    }
    return bodyId;
  }
}

package dev.sluice.search;

import dev.sluice.fhir.Issue;
import dev.sluice.fhir.SearchParam;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A parsed FHIR search over one resource type: what to match and how to present it. It holds
 * no SQL; {@code dev.sluice.store.SearchSql} turns the criteria into SQL.
 *
 * @param criteria all must hold
 * @param sort empty for the server's order (insertion order)
 * @param count page size, or null for the default
 * @param elements {@code _elements}, empty for whole resources
 * @param issues warnings to report with the result (parameters ignored under lenient handling)
 * @param resultParameters the names of the parameters given that shape the result rather than
 *     select it ({@code _count}, {@code _sort}, {@code _include}, {@code _format}, ...), in order
 */
public record SearchQuery(
    String type,
    List<Criterion> criteria,
    List<SortKey> sort,
    Integer count,
    Total total,
    boolean summaryCount,
    List<String> elements,
    List<Include> includes,
    List<Issue> issues,
    List<String> resultParameters) {

  public SearchQuery {
    Objects.requireNonNull(type, "type");
    criteria = List.copyOf(criteria);
    sort = List.copyOf(sort);
    elements = List.copyOf(elements);
    includes = List.copyOf(includes);
    issues = List.copyOf(issues);
    resultParameters = List.copyOf(resultParameters);
    total = total == null ? Total.NONE : total;
  }

  /** {@code _total}: whether the Bundle carries the number of matches. */
  public enum Total { NONE, ESTIMATE, ACCURATE }

  /**
   * A sort key: {@code param} null means the logical id ({@code _id}); {@code _lastUpdated}
   * is the parameter of that name.
   */
  public record SortKey(SearchParam param, boolean descending) {}

  /**
   * {@code _include} (reverse false: follow {@code reference} from the results) or
   * {@code _revinclude} (reverse true: resources whose {@code reference} points at the
   * results); {@code targetType} null for any; iterate applies it to included resources too.
   */
  public record Include(SearchParam reference, String targetType, boolean reverse, boolean iterate) {}

  /** The same query with one more criterion (a compartment, for example). */
  public SearchQuery and(Criterion criterion) {
    List<Criterion> more = new ArrayList<>(criteria);
    more.add(criterion);
    return new SearchQuery(type, more, sort, count, total, summaryCount, elements, includes, issues, resultParameters);
  }
}

package dev.sluice.search;

import dev.sluice.fhir.SearchParam;
import java.util.List;

/** One condition of a search; the criteria of a {@link SearchQuery} must all hold (AND). */
public sealed interface Criterion {

  /** The resource's logical id is one of these. */
  record Ids(List<String> ids) implements Criterion {
    public Ids {
      ids = List.copyOf(ids);
    }
  }

  /** Some value of {@code param} matches one of {@code anyOf} (OR); with {@link Modifier#NOT}, none does. */
  record Match(SearchParam param, Modifier modifier, List<SearchValue> anyOf) implements Criterion {
    public Match {
      anyOf = List.copyOf(anyOf);
    }
  }

  /** {@code :missing}: the resource has no value (missing) or some value (not missing) for {@code param}. */
  record Missing(SearchParam param, boolean missing) implements Criterion {}

  /** Chaining: {@code reference} points to a resource of {@code targetType} that meets {@code inner}. */
  record Chain(SearchParam reference, String targetType, Criterion inner) implements Criterion {}

  /** Reverse chaining ({@code _has}): a resource of {@code sourceType} meeting {@code inner} points here through {@code reference}. */
  record Has(String sourceType, SearchParam reference, Criterion inner) implements Criterion {}

  /** At least one of these holds (a chain over a reference that may target several types). */
  record AnyOf(List<Criterion> anyOf) implements Criterion {
    public AnyOf {
      anyOf = List.copyOf(anyOf);
    }
  }

  /** The resource is in this patient's compartment. */
  record InCompartment(String patientId) implements Criterion {}
}

package dev.sluice.store;

import java.util.List;

/** A boolean SQL condition with its {@code ?} parameters, to AND into a query. */
public record SqlCondition(String sql, List<Object> params) {
  public SqlCondition {
    params = List.copyOf(params);
  }
}

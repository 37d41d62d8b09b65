package dev.sluice.search;

import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;

/** One value of a search parameter, parsed per parameter kind. */
public sealed interface SearchValue {

  /**
   * {@code code}, {@code system|code}, {@code |code} (noSystem) or {@code system|}; null parts are not compared.
   */
  record Token(String system, String code, boolean noSystem) implements SearchValue {}

  record Text(String value) implements SearchValue {}

  /** A date value as the range it covers, lo inclusive, hi exclusive. */
  record Date(Prefix prefix, Instant lo, Instant hi) implements SearchValue {}

  /** A number; its implicit range for {@code eq} is value +- half its last digit. */
  record Number(Prefix prefix, BigDecimal value) implements SearchValue {}

  record Quantity(Prefix prefix, BigDecimal value, String system, String code) implements SearchValue {}

  /**
   * A local reference (type may be null when only the id was given), an absolute URL, or both:
   * an absolute URL under this server's own base, which matches either.
   */
  record Reference(String type, String id, String url) implements SearchValue {}

  record Uri(String value) implements SearchValue {}

  /** The values of a composite parameter's parts, in the order of its components. */
  record Composite(List<SearchValue> parts) implements SearchValue {
    public Composite {
      parts = List.copyOf(parts);
    }
  }
}

package dev.sluice.fhir;

import java.math.BigDecimal;

/**
 * The decimals this server keeps: at most {@link #MAX_DIGITS} digits before the decimal point and
 * as many after it, written out. FHIR's grammar allows any exponent, but the search index holds a
 * value written out (PostgreSQL's numeric: 16,383 digits after the point at most, so 1e-99999 made
 * the index write fail), and HAPI's parser writes a JSON decimal out before it reads it (1e999999999
 * held a request for minutes building a billion digits). 1,000 is also the longest number Jackson
 * reads, so a decimal refused here could not have been sent with its digits written out either.
 */
public final class DecimalLimit {
  public static final int MAX_DIGITS = 1000;

  private DecimalLimit() {}

  public static boolean fits(BigDecimal d) {
    return d.scale() <= MAX_DIGITS && (long) d.precision() - d.scale() <= MAX_DIGITS;
  }

  /** Why {@code d} is refused, for a message that names where it was found. */
  public static String reason(BigDecimal d) {
    return "the decimal " + d + " has more than " + MAX_DIGITS
        + " digits before or after the decimal point written out, more than this server keeps";
  }
}

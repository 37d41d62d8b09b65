package dev.sluice.fhir;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The time range a FHIR date, dateTime or instant covers: {@code 2020} is all of 2020,
 * {@code 2020-03-01T10:00Z} is that minute. {@code lo} is inclusive, {@code hi} exclusive;
 * {@link Instant#MIN}/{@link Instant#MAX} stand for open ends. Dates without a time zone are
 * taken in UTC (the server's choice that FHIR leaves open).
 */
public record DateRange(Instant lo, Instant hi) {
  private static final Pattern DATE = Pattern.compile(
      "(\\d{4})(?:-(\\d{2})(?:-(\\d{2})(?:T(\\d{2}):(\\d{2})(?::(\\d{2})(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?)?)?)?");

  public static final DateRange ALL = new DateRange(Instant.MIN, Instant.MAX);

  /** @throws IllegalArgumentException when the text is not a FHIR date, dateTime or instant */
  public static DateRange parse(String text) {
    Matcher m = DATE.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("not a FHIR date: " + text);
    }
    try {
      int year = Integer.parseInt(m.group(1));
      if (m.group(2) == null) {
        Instant lo = LocalDate.of(year, 1, 1).atStartOfDay().toInstant(ZoneOffset.UTC);
        return new DateRange(lo, LocalDate.of(year + 1, 1, 1).atStartOfDay().toInstant(ZoneOffset.UTC));
      }
      int month = Integer.parseInt(m.group(2));
      if (m.group(3) == null) {
        LocalDate start = LocalDate.of(year, month, 1);
        return new DateRange(start.atStartOfDay().toInstant(ZoneOffset.UTC),
            start.plusMonths(1).atStartOfDay().toInstant(ZoneOffset.UTC));
      }
      LocalDate day = LocalDate.of(year, month, Integer.parseInt(m.group(3)));
      if (m.group(4) == null) {
        return new DateRange(day.atStartOfDay().toInstant(ZoneOffset.UTC),
            day.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC));
      }
      LocalDateTime time = day.atTime(Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
          m.group(6) == null ? 0 : Integer.parseInt(m.group(6)));
      ChronoUnit unit = m.group(6) == null ? ChronoUnit.MINUTES : ChronoUnit.SECONDS;
      if (m.group(7) != null) {
        String fraction = m.group(7).substring(1);
        int digits = Math.min(fraction.length(), 9);
        time = time.plusNanos(Long.parseLong((fraction + "000000000").substring(0, 9)));
        unit = digits <= 3 ? ChronoUnit.MILLIS : digits <= 6 ? ChronoUnit.MICROS : ChronoUnit.NANOS;
      }
      ZoneOffset zone = m.group(8) == null ? ZoneOffset.UTC : ZoneOffset.of(m.group(8));
      Instant lo = OffsetDateTime.of(time, zone).toInstant();
      return new DateRange(lo, lo.plus(1, unit));
    } catch (java.time.DateTimeException | NumberFormatException e) {
      throw new IllegalArgumentException("not a valid date: " + text, e);
    }
  }
}

package dev.sluice.deid;

import java.time.LocalDate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The reference engine's reading of FHIR date strings, and its rule that a date implying an age over 89 must go. */
final class FhirDates {

    // The date and dateTime grammars of https://www.hl7.org/fhir/datatypes.html; groups: 1 year, 5 month, 7 day, 8 time.
    static final Pattern DATE = Pattern.compile(
            "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?");
    static final Pattern DATE_TIME = Pattern.compile(
            "([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])"
                    + "(T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?)?)?");
    static final Pattern TIME = Pattern.compile("([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?");
    static final int YEAR = 1;
    static final int MONTH = 5;
    static final int DAY = 7;
    static final int TIME_PART = 8;
    private static final int AGE_THRESHOLD = 89;

    private FhirDates() {}

    static boolean isDate(Node node) {
        return "date".equals(node.type());
    }

    static boolean isDateTimeOrInstant(Node node) {
        return "dateTime".equals(node.type()) || "instant".equals(node.type());
    }

    /** Matches the start of the value (unanchored, like .NET's Regex.Match); null when nothing matches. */
    static Matcher match(Pattern pattern, String value) {
        Matcher matcher = pattern.matcher(value);
        return matcher.find() ? matcher : null;
    }

    /** Whether someone born on this (possibly partial) date would be older than 89 today. */
    static boolean impliesAgeOver89(Matcher date, LocalDate today) {
        int year = Integer.parseInt(date.group(YEAR));
        int month = date.group(MONTH) != null ? Integer.parseInt(date.group(MONTH)) : 1;
        int day = date.group(DAY) != null ? Integer.parseInt(date.group(DAY)) : 1;
        boolean beforeBirthday = today.getMonthValue() < month || (today.getMonthValue() == month && today.getDayOfMonth() < day);
        int age = today.getYear() - year - (beforeBirthday ? 1 : 0);
        return age > AGE_THRESHOLD;
    }
}

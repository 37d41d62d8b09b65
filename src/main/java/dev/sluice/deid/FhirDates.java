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
    private static final Pattern INSTANT = Pattern.compile("(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2})(?:\\.(\\d+))?(Z|[+-]\\d{2}:\\d{2})");
    static final int YEAR = 1;
    static final int MONTH = 5;
    static final int DAY = 7;
    static final int TIME_PART = 8;
    private static final int AGE_THRESHOLD = 89;

    private FhirDates() {}

    static boolean isDate(Element node) {
        return "date".equals(node.type());
    }

    static boolean isDateTimeOrInstant(Element node) {
        return "dateTime".equals(node.type()) || "instant".equals(node.type());
    }

    /** Matches the start of the value (unanchored, like .NET's Regex.Match); null when nothing matches. */
    static Matcher match(Pattern pattern, String value) {
        Matcher matcher = pattern.matcher(value);
        return matcher.find() ? matcher : null;
    }

    /**
     * An instant as the reference holds it: .NET's DateTimeOffset written as yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK
     * (firely-net-common PrimitiveTypeConverter.FMT_FULL), so "Z" becomes "+00:00" and the fraction loses its trailing
     * zeros (".260" is ".26", ".000" goes). Azure's $export parses resources into that model (microsoft/fhir-server
     * FhirModule.cs), and AddSecurityTag rebuilds meta through it. Text that is not a full instant stays as it is.
     */
    static String referenceInstant(String text) {
        Matcher m = INSTANT.matcher(text);
        if (!m.matches()) {
            return text;
        }
        String fraction = m.group(2) == null ? "" : m.group(2).substring(0, Math.min(7, m.group(2).length())).replaceAll("0+$", "");
        String zone = "Z".equals(m.group(3)) || "-00:00".equals(m.group(3)) ? "+00:00" : m.group(3);
        return m.group(1) + (fraction.isEmpty() ? "" : "." + fraction) + zone;
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

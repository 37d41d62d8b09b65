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

    /**
     * A date or dateTime as {@link #DATE} or {@link #DATE_TIME} reads it: the year as written, month and day (0 when
     * absent), and for a dateTime the part from {@code T} through the zone (null when absent).
     */
    record DateParts(String year, int month, int day, String time) {}

    /**
     * The parts {@code pattern} ({@link #DATE} or {@link #DATE_TIME}) finds at the first place it matches (unanchored,
     * like .NET's Regex.Match); null when nothing matches. A value that is one whole well-formed date or dateTime (all
     * of them in practice) is read by hand, with the same result: the greedy pattern then matches all of it, from the
     * start. Anything else goes to the pattern.
     */
    static DateParts read(Pattern pattern, String value) {
        DateParts parts = readWhole(pattern == DATE_TIME, value);
        return parts != null ? parts : readByPatterns(pattern, value);
    }

    /** {@link #read} by the pattern alone (what the hand reading must agree with). */
    static DateParts readByPatterns(Pattern pattern, String value) {
        Matcher m = pattern.matcher(value);
        if (!m.find()) {
            return null;
        }
        return new DateParts(m.group(YEAR), m.group(MONTH) == null ? 0 : Integer.parseInt(m.group(MONTH)),
                m.group(DAY) == null ? 0 : Integer.parseInt(m.group(DAY)),
                pattern == DATE_TIME ? m.group(TIME_PART) : null);
    }

    private static DateParts readWhole(boolean dateTime, String v) {
        int n = v.length();
        if (n < 4 || !digits(v, 0, 4) || v.startsWith("0000")) {
            return null;
        }
        String year = v.substring(0, 4);
        if (n == 4) {
            return new DateParts(year, 0, 0, null);
        }
        if (n < 7 || v.charAt(4) != '-' || !digits(v, 5, 7)) {
            return null;
        }
        int month = number(v, 5);
        if (month < 1 || month > 12) {
            return null;
        }
        if (n == 7) {
            return new DateParts(year, month, 0, null);
        }
        if (n < 10 || v.charAt(7) != '-' || !digits(v, 8, 10)) {
            return null;
        }
        int day = number(v, 8);
        if (day < 1 || day > 31) {
            return null;
        }
        if (n == 10) {
            return new DateParts(year, month, day, null);
        }
        if (!dateTime || v.charAt(10) != 'T') {
            return null;
        }
        int clockEnd = clockEnd(v, 11);
        if (clockEnd < 0 || !isZone(v, clockEnd)) {
            return null;
        }
        return new DateParts(year, month, day, v.substring(10));
    }

    /** Where {@link #TIME} ends when it matches at {@code at}, else -1. */
    private static int clockEnd(String v, int at) {
        if (v.length() < at + 8 || !digits(v, at, at + 2) || v.charAt(at + 2) != ':' || !digits(v, at + 3, at + 5)
                || v.charAt(at + 5) != ':' || !digits(v, at + 6, at + 8)) {
            return -1;
        }
        int hour = number(v, at);
        int minute = number(v, at + 3);
        int second = number(v, at + 6);
        if (hour > 23 || minute > 59 || second > 60) {
            return -1;
        }
        int end = at + 8;
        if (end + 1 < v.length() && v.charAt(end) == '.' && isDigit(v.charAt(end + 1))) {
            end += 2;
            while (end < v.length() && isDigit(v.charAt(end))) {
                end++;
            }
        }
        return end;
    }

    /** {@code Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00)} from {@code at} to the end. */
    private static boolean isZone(String v, int at) {
        int n = v.length() - at;
        if (n == 1) {
            return v.charAt(at) == 'Z';
        }
        if (n != 6 || v.charAt(at) != '+' && v.charAt(at) != '-' || !digits(v, at + 1, at + 3) || v.charAt(at + 3) != ':'
                || !digits(v, at + 4, at + 6)) {
            return false;
        }
        int hours = number(v, at + 1);
        int minutes = number(v, at + 4);
        return hours <= 13 && minutes <= 59 || hours == 14 && minutes == 0;
    }

    /**
     * A dateTime's time part with every digit of its clock time (not of its zone) made 0, as the reference does. A
     * time part that starts {@code T} and a well-formed clock time, with at most a zone after it, is done by hand;
     * anything else by {@link #TIME}.
     */
    static String zeroClock(String time) {
        int end = time.startsWith("T") ? clockEnd(time, 1) : -1;
        // the pattern's way replaces every copy of the clock text: a zone (at most 6 characters) holds none
        if (end < 0 || time.length() - end > 6) {
            return zeroClockByPattern(time);
        }
        char[] chars = time.toCharArray();
        for (int i = 1; i < end; i++) {
            if (isDigit(chars[i])) {
                chars[i] = '0';
            }
        }
        return new String(chars);
    }

    /** {@link #zeroClock} by the pattern alone. */
    static String zeroClockByPattern(String time) {
        Matcher clock = TIME.matcher(time);
        return clock.find() ? time.replace(clock.group(), clock.group().replaceAll("\\d", "0")) : time;
    }

    private static boolean digits(String v, int from, int to) {
        for (int i = from; i < to; i++) {
            if (!isDigit(v.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static int number(String v, int at) {
        return (v.charAt(at) - '0') * 10 + v.charAt(at + 1) - '0';
    }

    /**
     * An instant as the reference holds it: .NET's DateTimeOffset written as yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK
     * (firely-net-common PrimitiveTypeConverter.FMT_FULL), so "Z" becomes "+00:00" and the fraction loses its trailing
     * zeros (".260" is ".26", ".000" goes). Azure's $export parses resources into that model (microsoft/fhir-server
     * FhirModule.cs), and AddSecurityTag rebuilds meta through it. Text that is not a full instant stays as it is.
     */
    static String referenceInstant(String text) {
        int n = text.length();
        // the instant pattern, by hand: yyyy-MM-ddTHH:mm:ss, a fraction, Z or an offset, nothing else
        if (n < 20 || !digits(text, 0, 4) || text.charAt(4) != '-' || !digits(text, 5, 7) || text.charAt(7) != '-'
                || !digits(text, 8, 10) || text.charAt(10) != 'T' || !digits(text, 11, 13) || text.charAt(13) != ':'
                || !digits(text, 14, 16) || text.charAt(16) != ':' || !digits(text, 17, 19)) {
            return text;
        }
        int zone = 19;
        if (text.charAt(zone) == '.') {
            zone++;
            while (zone < n && isDigit(text.charAt(zone))) {
                zone++;
            }
            if (zone == 20) {
                return text;
            }
        }
        boolean z = zone == n - 1 && text.charAt(zone) == 'Z';
        boolean offset = zone == n - 6 && (text.charAt(zone) == '+' || text.charAt(zone) == '-') && digits(text, zone + 1, zone + 3)
                && text.charAt(zone + 3) == ':' && digits(text, zone + 4, zone + 6);
        if (!z && !offset) {
            return text;
        }
        int fractionEnd = zone > 19 ? Math.min(zone, 20 + 7) : 19;
        while (fractionEnd > 20 && text.charAt(fractionEnd - 1) == '0') {
            fractionEnd--;
        }
        String zoneText = z || text.startsWith("-00:00", zone) ? "+00:00" : text.substring(zone);
        return text.substring(0, 19) + (fractionEnd > 20 ? text.substring(19, fractionEnd) : "") + zoneText;
    }

    /** {@link #referenceInstant} by the instant pattern alone (what the hand reading must agree with). */
    static String referenceInstantByPattern(String text) {
        Matcher m = INSTANT.matcher(text);
        if (!m.matches()) {
            return text;
        }
        String fraction = m.group(2) == null ? "" : m.group(2).substring(0, Math.min(7, m.group(2).length())).replaceAll("0+$", "");
        String zone = "Z".equals(m.group(3)) || "-00:00".equals(m.group(3)) ? "+00:00" : m.group(3);
        return m.group(1) + (fraction.isEmpty() ? "" : "." + fraction) + zone;
    }

    /** Whether someone born on this (possibly partial) date would be older than 89 today. */
    static boolean impliesAgeOver89(DateParts date, LocalDate today) {
        int year = Integer.parseInt(date.year());
        int month = date.month() != 0 ? date.month() : 1;
        int day = date.day() != 0 ? date.day() : 1;
        boolean beforeBirthday = today.getMonthValue() < month || (today.getMonthValue() == month && today.getDayOfMonth() < day);
        int age = today.getYear() - year - (beforeBirthday ? 1 : 0);
        return age > AGE_THRESHOLD;
    }
}

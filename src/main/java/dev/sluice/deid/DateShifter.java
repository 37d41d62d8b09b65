package dev.sluice.deid;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;

/**
 * The dateShift method, exactly as the reference engine computes it: the offset is a hash of (prefix + dateShiftKey)
 * into -50..+50 days, where the prefix is the scope key (file, folder, patient) or else the root resource's id as it
 * stands when the date is shifted (so after any earlier rule hashed it). Dates without a day, or that imply an age
 * over 89, are redacted instead; times keep their zone but every digit of the clock time becomes 0.
 */
final class DateShifter {

    private static final int SEED = 131;
    private static final int RANGE = 50;
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd");

    private final String key;
    /**
     * The hash's steps over the key's bytes, folded into one: a step is {@code s -> (s * SEED + b) mod 101}, so the
     * key's bytes take any prefix's state s to {@code (s * keyPower + keyAddend) mod 101}, the same for every resource.
     */
    private final int keyPower;
    private final int keyAddend;
    private final Integer fixedOffset;
    private final Redaction redaction;
    private final Clock clock;

    DateShifter(AnonymizationParameters parameters, Redaction redaction, Clock clock) {
        this.key = parameters.dateShiftKey();
        int power = 1;
        int addend = 0;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            power = power * SEED % (2 * RANGE + 1);
            addend = (addend * SEED + (b & 0xff)) % (2 * RANGE + 1);
        }
        this.keyPower = power;
        this.keyAddend = addend;
        this.fixedOffset = parameters.dateShiftFixedOffsetInDays();
        this.redaction = redaction;
        this.clock = clock;
    }

    /**
     * Returns the operation performed, or null when the node is not a date or has no value. {@code offsets} belong to
     * the resource being processed.
     */
    Operation apply(Element node, String prefix, Offsets offsets) {
        String value = node.text();
        if (value == null) {
            return null;
        }
        boolean date = FhirDates.isDate(node);
        if (!date && !FhirDates.isDateTimeOrInstant(node)) {
            return null;
        }
        FhirDates.DateParts parts = FhirDates.read(date ? FhirDates.DATE : FhirDates.DATE_TIME, value);
        if (parts == null || parts.day() == 0 || FhirDates.impliesAgeOver89(parts, LocalDate.now(clock))) {
            return redaction.redactDate(node, value, parts);
        }
        LocalDate day = LocalDate.of(Integer.parseInt(parts.year()), parts.month(), parts.day());
        String shifted = dayText(day.plusDays(offsets.of(prefix)));
        String timestamp = date ? null : parts.time();
        if (timestamp != null) {
            shifted = shifted + FhirDates.zeroClock(timestamp);
        }
        node.setText(shifted);
        return Operation.PERTURB;
    }

    /** {@code yyyy-MM-dd} as {@link #DAY} writes it: by hand for years 1 to 9999 (once per date), else by the formatter. */
    static String dayText(LocalDate day) {
        int year = day.getYear();
        if (year < 1 || year > 9999) {
            return day.format(DAY);
        }
        int month = day.getMonthValue();
        int dayOfMonth = day.getDayOfMonth();
        char[] text = {
            (char) ('0' + year / 1000), (char) ('0' + year / 100 % 10), (char) ('0' + year / 10 % 10), (char) ('0' + year % 10), '-',
            (char) ('0' + month / 10), (char) ('0' + month % 10), '-', (char) ('0' + dayOfMonth / 10), (char) ('0' + dayOfMonth % 10)
        };
        return new String(text);
    }

    /** Offsets for the dates of one resource, made by whoever processes it and never shared between threads. */
    Offsets offsets() {
        return new Offsets();
    }

    /**
     * The offsets of one resource's dates. Every date of a resource has the same prefix (or one of two, the id before
     * and after it is hashed), so the hash, a division per byte, is made once per resource and prefix, not per date.
     * Per resource, not per shifter: the export's workers shift dates at once, and a cache they shared would be
     * overwritten by each in turn.
     */
    final class Offsets {
        private String prefix;
        private int offset;

        private Offsets() {}

        int of(String prefix) {
            String key = prefix == null ? "" : prefix;
            if (!key.equals(this.prefix)) {
                this.offset = offset(key);
                this.prefix = key;
            }
            return offset;
        }
    }

    int offset(String prefix) {
        return fixedOffset != null ? fixedOffset : hash(prefix);
    }

    private int hash(String prefix) {
        String text = prefix == null ? "" : prefix;
        int offset = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c >= 0x80) {
                // not ASCII: hash the UTF-8 bytes as the reference does
                return offset(((prefix == null ? "" : prefix) + key).getBytes(StandardCharsets.UTF_8));
            }
            offset = (offset * SEED + c) % (2 * RANGE + 1);
        }
        // ids are ASCII: the prefix's bytes are its chars, no string to join and encode per resource
        return (offset * keyPower + keyAddend) % (2 * RANGE + 1) - RANGE;
    }

    private static int offset(byte[] bytes) {
        int offset = 0;
        for (byte b : bytes) {
            offset = (offset * SEED + (b & 0xff)) % (2 * RANGE + 1);
        }
        return offset - RANGE;
    }
}

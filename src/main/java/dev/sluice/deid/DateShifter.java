package dev.sluice.deid;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.regex.Matcher;

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
    private final Integer fixedOffset;
    private final Redaction redaction;
    private final Clock clock;

    DateShifter(AnonymizationParameters parameters, Redaction redaction, Clock clock) {
        this.key = parameters.dateShiftKey();
        this.fixedOffset = parameters.dateShiftFixedOffsetInDays();
        this.redaction = redaction;
        this.clock = clock;
    }

    /** Returns the operation performed, or null when the node is not a date or has no value. */
    Operation apply(Element node, String prefix) {
        String value = node.text();
        if (value == null) {
            return null;
        }
        boolean date = FhirDates.isDate(node);
        if (!date && !FhirDates.isDateTimeOrInstant(node)) {
            return null;
        }
        Matcher match = FhirDates.match(date ? FhirDates.DATE : FhirDates.DATE_TIME, value);
        if (match == null || match.group(FhirDates.DAY) == null || FhirDates.impliesAgeOver89(match, LocalDate.now(clock))) {
            return redaction.redactDate(node, value, match);
        }
        LocalDate day = LocalDate.of(Integer.parseInt(match.group(FhirDates.YEAR)),
                Integer.parseInt(match.group(FhirDates.MONTH)), Integer.parseInt(match.group(FhirDates.DAY)));
        String shifted = day.plusDays(offset(prefix)).format(DAY);
        String timestamp = date ? null : match.group(FhirDates.TIME_PART);
        if (timestamp != null) {
            Matcher time = FhirDates.TIME.matcher(timestamp);
            if (time.find()) {
                timestamp = timestamp.replace(time.group(), time.group().replaceAll("\\d", "0"));
            }
            shifted = shifted + timestamp;
        }
        node.setText(shifted);
        return Operation.PERTURB;
    }

    int offset(String prefix) {
        if (fixedOffset != null) {
            return fixedOffset;
        }
        int offset = 0;
        for (byte b : ((prefix == null ? "" : prefix) + key).getBytes(StandardCharsets.UTF_8)) {
            offset = (offset * SEED + (b & 0xff)) % (2 * RANGE + 1);
        }
        return offset - RANGE;
    }
}

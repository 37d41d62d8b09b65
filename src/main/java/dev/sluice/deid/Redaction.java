package dev.sluice.deid;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;

/** The redact method, with its partial forms for dates, ages and US postal codes (HIPAA Safe Harbor). */
final class Redaction {

    private static final BigDecimal AGE_THRESHOLD = BigDecimal.valueOf(89);

    private final boolean partialDates;
    private final boolean partialAges;
    private final boolean partialZipCodes;
    private final List<String> restrictedZipAreas;
    private final Clock clock;

    Redaction(AnonymizationParameters parameters, Clock clock) {
        this.partialDates = parameters.enablePartialDatesForRedact();
        this.partialAges = parameters.enablePartialAgesForRedact();
        this.partialZipCodes = parameters.enablePartialZipCodesForRedact();
        this.restrictedZipAreas = parameters.restrictedZipCodeTabulationAreas();
        this.clock = clock;
    }

    /** Returns the operation performed, or null when the node had no value. */
    Operation apply(Element node) {
        String value = node.text();
        if (value == null) {
            return null;
        }
        if (FhirDates.isDate(node)) {
            return redactDate(node, value, FhirDates.read(FhirDates.DATE, value));
        }
        if (FhirDates.isDateTimeOrInstant(node)) {
            return redactDate(node, value, FhirDates.read(FhirDates.DATE_TIME, value));
        }
        if (isAgeValue(node)) {
            if (!partialAges || new BigDecimal(value).compareTo(AGE_THRESHOLD) > 0) {
                node.setText(null);
            }
            return Operation.REDACT;
        }
        if ("postalCode".equalsIgnoreCase(node.name())) {
            return redactPostalCode(node, value);
        }
        node.setText(null);
        return Operation.REDACT;
    }

    Operation redactDate(Element node, String value, FhirDates.DateParts date) {
        if (!partialDates) {
            node.setText(null);
        } else if (date != null) {
            // An instant keeps a bare year too (not a valid instant, but what DateTimeUtility.cs writes); HAPI holds it.
            node.setText(FhirDates.impliesAgeOver89(date, LocalDate.now(clock)) ? null : date.year());
        }
        return Operation.REDACT;
    }

    private Operation redactPostalCode(Element node, String value) {
        if (!partialZipCodes) {
            node.setText(null);
            return Operation.REDACT;
        }
        if (restrictedZipAreas.stream().anyMatch(value::startsWith)) {
            node.setText(value.replaceAll("\\d", "0"));
        } else if (value.length() >= 3) {
            node.setText(value.substring(0, 3) + value.substring(3).replaceAll("\\d", "0"));
        }
        return Operation.ABSTRACT;
    }

    private static boolean isAgeValue(Element node) {
        return "decimal".equals(node.type()) && "Age".equals(node.parentType());
    }
}

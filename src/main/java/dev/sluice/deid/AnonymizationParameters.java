package dev.sluice.deid;

import java.util.List;

/**
 * The {@code parameters} block of a configuration, with the reference engine's defaults applied: keys that are not
 * configured are random per loaded configuration.
 *
 * @param dateShiftFixedOffsetInDays when non-null, every date moves by exactly this many days
 */
public record AnonymizationParameters(
        String dateShiftKey,
        DateShiftScope dateShiftScope,
        Integer dateShiftFixedOffsetInDays,
        String cryptoHashKey,
        String encryptKey,
        boolean enablePartialAgesForRedact,
        boolean enablePartialDatesForRedact,
        boolean enablePartialZipCodesForRedact,
        List<String> restrictedZipCodeTabulationAreas) {

    public AnonymizationParameters {
        restrictedZipCodeTabulationAreas = List.copyOf(restrictedZipCodeTabulationAreas);
    }

    /** Keys are secrets: never print them. */
    @Override
    public String toString() {
        return "AnonymizationParameters[dateShiftScope=" + dateShiftScope
                + ", dateShiftFixedOffsetInDays=" + dateShiftFixedOffsetInDays
                + ", enablePartialAgesForRedact=" + enablePartialAgesForRedact
                + ", enablePartialDatesForRedact=" + enablePartialDatesForRedact
                + ", enablePartialZipCodesForRedact=" + enablePartialZipCodesForRedact
                + ", restrictedZipCodeTabulationAreas=" + restrictedZipCodeTabulationAreas
                + ", keys=***]";
    }
}

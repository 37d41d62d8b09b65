package dev.sluice.deid;

import java.util.List;
import java.util.Set;

/**
 * The {@code parameters} block of a configuration, with the reference engine's defaults applied: keys that are not
 * configured are random per loaded configuration.
 *
 * @param dateShiftFixedOffsetInDays when non-null, every date moves by exactly this many days
 * @param randomKeys the names of the keys the configuration leaves empty ({@code dateShiftKey},
 *     {@code cryptoHashKey}, {@code encryptKey}): random, so what they make differs from one
 *     loaded configuration to the next
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
        List<String> restrictedZipCodeTabulationAreas,
        Set<String> randomKeys) {

    public AnonymizationParameters {
        restrictedZipCodeTabulationAreas = List.copyOf(restrictedZipCodeTabulationAreas);
        randomKeys = Set.copyOf(randomKeys);
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
                + ", randomKeys=" + randomKeys
                + ", keys=***]";
    }
}

package dev.sluice.deid;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * The perturb method: uniform noise in [-span/2, span/2] (span times the value when proportional), rounded half-even
 * like .NET's decimal.Round. Integer types round to 0 places and keep their range (positiveInt >= 1, unsignedInt >= 0).
 */
final class Perturbation {

    private static final Set<String> NUMBERS = Set.of("decimal", "integer", "positiveInt", "unsignedInt");
    private static final Set<String> INTEGERS = Set.of("integer", "positiveInt", "unsignedInt");
    private static final Set<String> QUANTITIES = Set.of("Quantity", "Age", "Count", "Duration", "Distance", "Money",
            "SimpleQuantity", "MoneyQuantity");
    private static final int DEFAULT_DECIMAL_PLACES = 2;

    /**
     * Returns the operation performed, or null; {@code markVisited} receives the node's descendants, which the noise
     * stands for, so that later rules leave them alone.
     */
    Operation apply(Node node, Method.Perturb settings, Consumer<Node> markVisited, java.util.function.Predicate<Node> visited) {
        Node valueNode = null;
        if (NUMBERS.contains(node.type())) {
            valueNode = node;
        } else if (QUANTITIES.contains(node.type())) {
            valueNode = node.children().stream().filter(c -> "value".equals(c.name())).findFirst().orElse(null);
        }
        if (valueNode == null || valueNode.text() == null || visited.test(valueNode)) {
            return null;
        }
        BigDecimal original = new BigDecimal(valueNode.text());
        double span = settings.rangeType() == Method.RangeType.PROPORTIONAL
                ? Math.abs(original.doubleValue() * settings.span())
                : settings.span();
        double noise = span == 0 ? 0 : ThreadLocalRandom.current().nextDouble(-span / 2, span / 2);
        boolean integer = INTEGERS.contains(valueNode.type());
        int places = integer ? 0 : settings.roundTo() != null ? settings.roundTo() : DEFAULT_DECIMAL_PLACES;
        BigDecimal perturbed = original.add(BigDecimal.valueOf(noise)).setScale(places, RoundingMode.HALF_EVEN);
        if ("positiveInt".equals(valueNode.type()) && perturbed.signum() <= 0) {
            perturbed = BigDecimal.ONE;
        }
        if ("unsignedInt".equals(valueNode.type()) && perturbed.signum() < 0) {
            perturbed = BigDecimal.ZERO;
        }
        valueNode.setText(perturbed.toPlainString());
        node.descendantsWithinResource(markVisited);
        return Operation.PERTURB;
    }
}

package dev.sluice.deid;

import java.util.List;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BooleanType;

/**
 * The generalize method: the first case whose FHIRPath predicate holds on the value replaces it by its FHIRPath
 * expression; otherwise the value is redacted or kept. Only primitives can be generalized.
 */
final class Generalization {

    private final PathEngine engine;

    Generalization(PathEngine engine) {
        this.engine = engine;
    }

    Operation apply(Node node, CompiledRule rule, Method.Generalize settings, ResourceScope scope) {
        if (!node.value().isPrimitive()) {
            throw new AnonymizationException("rule " + rule.rule().index() + " ('" + rule.rule().path() + "', generalize) matched a "
                    + node.type() + "; only primitive values can be generalized", null);
        }
        if (node.text() == null) {
            return null;
        }
        List<CompiledRule.CompiledCase> cases = rule.cases();
        for (int i = 0; i < cases.size(); i++) {
            CompiledRule.CompiledCase c = cases.get(i);
            try {
                if (holds(engine.evaluate(scope, node.value(), c.predicate()))) {
                    List<Base> value = engine.evaluate(scope, node.value(), c.value());
                    node.setText(value.isEmpty() ? null : value.get(0).primitiveValue());
                    return Operation.GENERALIZE;
                }
            } catch (RuntimeException e) {
                throw new AnonymizationException("rule " + rule.rule().index() + " ('" + rule.rule().path() + "', generalize) failed in case "
                        + i + " ('" + settings.cases().get(i).predicate() + "') on a " + node.type() + ": " + e.getClass().getSimpleName(), e);
            }
        }
        if (settings.otherValues() == Method.OtherValues.REDACT) {
            node.setText(null);
        }
        return Operation.GENERALIZE;
    }

    private static boolean holds(List<Base> result) {
        return result.size() == 1 && result.get(0) instanceof BooleanType b && Boolean.TRUE.equals(b.getValue());
    }
}

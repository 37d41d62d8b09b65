package dev.sluice.deid;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.fhirpath.ExpressionNode;

/**
 * A rule ready to run: its resource type filter and how it selects nodes, with every expression compiled once.
 *
 * @param resourceType the leading type of the path ("" when the path has none); Resource and DomainResource match all
 */
record CompiledRule(Rule rule, String resourceType, Selector selector, List<CompiledCase> cases) {

    // The reference engine's shapes: a leading type name, and the two helper calls it answers from its node index.
    private static final Pattern LEADING_TYPE = Pattern.compile("^([A-Z][a-zA-Z]*)?(\\.)?(.*?)$");
    private static final Pattern BY_TYPE = Pattern.compile("^nodesByType\\(['\"]([A-Za-z0-9]+)['\"]\\)(\\.([A-Za-z0-9]+))?$");
    private static final Pattern BY_NAME = Pattern.compile("^nodesByName\\(['\"]([A-Za-z0-9]+)['\"]\\)(\\.([A-Za-z0-9]+))?$");

    CompiledRule {
        cases = List.copyOf(cases);
    }

    /** How a rule finds its nodes in one resource. */
    sealed interface Selector {
        /** The path is just a type name: the resource itself. */
        record Self() implements Selector {}

        /** {@code nodesByType('T')} or {@code nodesByType('T').child}. */
        record ByType(String type, String child) implements Selector {}

        /** {@code nodesByName('n')} or {@code nodesByName('n').child}. */
        record ByName(String name, String child) implements Selector {}

        /** Any other FHIRPath, evaluated on the resource with the leading type removed. */
        record ByExpression(ExpressionNode expression) implements Selector {}
    }

    record CompiledCase(ExpressionNode predicate, ExpressionNode value) {}

    static CompiledRule compile(Rule rule, PathEngine compiler, List<CompiledCase> cases) {
        String path = rule.path();
        Matcher leading = LEADING_TYPE.matcher(path);
        String resourceType = "";
        String expression = path;
        if (leading.matches()) {
            resourceType = leading.group(1) == null ? "" : leading.group(1);
            expression = leading.group(3).isEmpty() ? path : leading.group(3);
        }
        Matcher byType = BY_TYPE.matcher(path);
        Matcher byName = BY_NAME.matcher(path);
        Selector selector;
        if (byType.matches()) {
            selector = new Selector.ByType(byType.group(1), byType.group(3));
        } else if (byName.matches()) {
            selector = new Selector.ByName(byName.group(1), byName.group(3));
        } else if (path.equals(resourceType)) {
            selector = new Selector.Self();
        } else {
            selector = new Selector.ByExpression(compiler.compile(expression));
        }
        return new CompiledRule(rule, resourceType, selector, cases);
    }

    /** The rules, in file order, that apply to resources of this type. */
    static List<CompiledRule> applicableTo(List<CompiledRule> rules, String type) {
        List<CompiledRule> applicable = new ArrayList<>();
        for (CompiledRule rule : rules) {
            if (rule.appliesTo(type)) {
                applicable.add(rule);
            }
        }
        return List.copyOf(applicable);
    }

    boolean appliesTo(String type) {
        return resourceType.isEmpty() || resourceType.equals(type)
                || "Resource".equals(resourceType) || "DomainResource".equals(resourceType);
    }
}

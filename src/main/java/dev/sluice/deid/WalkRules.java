package dev.sluice.deid;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The rules of one configuration for one resource type, compiled for the JSON walk: each rule's path as a test of one
 * element that needs no FHIRPath (the resource itself, {@code nodesByType('T')[.child]}, {@code nodesByName('n')
 * [.child]}, a plain element path such as {@code Resource.id} or {@code Observation.component.value}). The model
 * engine processes rule after rule, each match with its descendants, skipping what an earlier rule processed; so an
 * element ends up processed by the first rule that matches it or one of its ancestors, which {@link #assign} finds
 * in one pass from the root.
 */
final class WalkRules {

    private static final Pattern PLAIN_PATH = Pattern.compile("[a-z][A-Za-z0-9]*(\\.[a-z][A-Za-z0-9]*)*");

    /** How a rule's path selects an element, decided on the element alone. */
    private sealed interface Match {
        boolean test(JsonElement e);
    }

    private record Root() implements Match {
        @Override
        public boolean test(JsonElement e) {
            return e.isRoot();
        }
    }

    /** nodesByType: the root itself is no candidate (the model engine indexes only what is under it). */
    private record OfType(String type, String child) implements Match {
        @Override
        public boolean test(JsonElement e) {
            return child == null ? !e.isRoot() && type.equals(e.type())
                    : child.equals(e.name()) && !e.parent().isRoot() && type.equals(e.parent().type());
        }
    }

    private record Named(String name, String child) implements Match {
        @Override
        public boolean test(JsonElement e) {
            return child == null ? !e.isRoot() && name.equals(e.name())
                    : child.equals(e.name()) && !e.parent().isRoot() && name.equals(e.parent().name());
        }
    }

    /** Element names from the root; a choice element answers to its name without the type. */
    private record Path(String[] names) implements Match {
        @Override
        public boolean test(JsonElement e) {
            JsonElement at = e;
            for (int i = names.length - 1; i >= 0; i--) {
                if (at.isRoot() || !names[i].equals(at.name())) {
                    return false;
                }
                at = at.parent();
            }
            return at.isRoot();
        }
    }

    private final List<Match> matches;
    private final List<Method> methods;

    private WalkRules(List<Match> matches, List<Method> methods) {
        this.matches = List.copyOf(matches);
        this.methods = List.copyOf(methods);
    }

    /** The walk's form of these rules (those that apply to one type, in file order), or null when it cannot decide one. */
    static WalkRules compile(List<CompiledRule> rules) {
        List<Match> matches = new ArrayList<>();
        List<Method> methods = new ArrayList<>();
        for (CompiledRule rule : rules) {
            Method method = rule.rule().method();
            if (!(method instanceof Method.Keep || method instanceof Method.Redact || method instanceof Method.DateShift
                    || method instanceof Method.CryptoHash)) {
                return null;
            }
            Match match = switch (rule.selector()) {
                case CompiledRule.Selector.Self self -> new Root();
                case CompiledRule.Selector.ByType byType -> new OfType(byType.type(), byType.child());
                case CompiledRule.Selector.ByName byName -> new Named(byName.name(), byName.child());
                case CompiledRule.Selector.ByExpression byExpression -> plainPath(rule);
            };
            if (match == null) {
                return null;
            }
            matches.add(match);
            methods.add(method);
        }
        return new WalkRules(matches, methods);
    }

    private static Path plainPath(CompiledRule rule) {
        String path = rule.rule().path();
        String type = rule.resourceType();
        String expression = !type.isEmpty() && path.startsWith(type + ".") ? path.substring(type.length() + 1) : path;
        return PLAIN_PATH.matcher(expression).matches() ? new Path(expression.split("\\.")) : null;
    }

    Method method(int rule) {
        return methods.get(rule);
    }

    /** Sets every element's {@link JsonElement#rule}: the first rule that matches it or an ancestor. */
    void assign(JsonElement root) {
        assign(root, Integer.MAX_VALUE);
    }

    private void assign(JsonElement e, int inherited) {
        int rule = inherited;
        for (int i = 0; i < Math.min(rule, matches.size()); i++) {
            if (matches.get(i).test(e)) {
                rule = i;
                break;
            }
        }
        e.rule = rule == Integer.MAX_VALUE ? -1 : rule;
        for (JsonElement child : e.children()) {
            assign(child, rule);
        }
    }
}

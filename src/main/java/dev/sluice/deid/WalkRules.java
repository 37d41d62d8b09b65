package dev.sluice.deid;

import java.util.ArrayList;
import java.util.Arrays;
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

    /**
     * How a rule's path selects an element of the resource being processed ({@code scope}), decided on the element
     * alone. A resource inside that one is an element of it like any other.
     */
    private sealed interface Match {
        boolean test(JsonElement e, JsonElement scope);
    }

    private record Root() implements Match {
        @Override
        public boolean test(JsonElement e, JsonElement scope) {
            return e == scope;
        }
    }

    /** nodesByType: the resource itself is no candidate (the model engine indexes only what is under it). */
    private record OfType(String type, String child) implements Match {
        @Override
        public boolean test(JsonElement e, JsonElement scope) {
            return child == null ? e != scope && type.equals(e.type())
                    : e != scope && child.equals(e.name()) && e.parent() != scope && type.equals(e.parent().type());
        }
    }

    private record Named(String name, String child) implements Match {
        @Override
        public boolean test(JsonElement e, JsonElement scope) {
            return child == null ? e != scope && name.equals(e.name())
                    : e != scope && child.equals(e.name()) && e.parent() != scope && name.equals(e.parent().name());
        }
    }

    /** Element names from the resource; a choice element answers to its name without the type. */
    private record Path(String[] names) implements Match {
        @Override
        public boolean test(JsonElement e, JsonElement scope) {
            JsonElement at = e;
            for (int i = names.length - 1; i >= 0; i--) {
                if (at == scope || !names[i].equals(at.name())) {
                    return false;
                }
                at = at.parent();
            }
            return at == scope;
        }
    }

    private final List<Match> matches;
    private final List<Method> methods;
    private final Step root;

    private WalkRules(List<Match> matches, List<Method> methods) {
        this.matches = List.copyOf(matches);
        this.methods = List.copyOf(methods);
        // only Root takes the resource itself
        int self = Integer.MAX_VALUE;
        for (int i = 0; i < this.matches.size() && self == Integer.MAX_VALUE; i++) {
            if (this.matches.get(i) instanceof Root) {
                self = i;
            }
        }
        this.root = new Step(self);
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

    /**
     * Sets {@link JsonElement#rule} on a resource and its elements up to the resources inside it (which have rules
     * of their own): the first rule that matches the element or an ancestor.
     */
    void assign(JsonElement resource) {
        assign(resource, Integer.MAX_VALUE, resource, root);
    }

    private void assign(JsonElement e, int inherited, JsonElement scope, Step step) {
        int rule = Math.min(inherited, step.firstMatch);
        e.rule = rule == Integer.MAX_VALUE ? -1 : rule;
        List<JsonElement> children = e.children();
        for (int i = 0; i < children.size(); i++) {
            JsonElement child = children.get(i);
            if (!child.isResource()) {
                assign(child, rule, scope, step.next(child, scope));
            } else if (selects(child, scope)) {
                // the model engine would mark that resource processed, which shields it from its own rules
                throw JsonElement.Undecidable.INSTANCE;
            }
        }
    }

    /** The first rule whose match takes this element, Integer.MAX_VALUE for none. */
    private int firstMatch(JsonElement e, JsonElement scope) {
        for (int i = 0; i < matches.size(); i++) {
            if (matches.get(i).test(e, scope)) {
                return i;
            }
        }
        return Integer.MAX_VALUE;
    }

    private boolean selects(JsonElement nested, JsonElement scope) {
        for (Match match : matches) {
            if (match.test(nested, scope)) {
                return true;
            }
        }
        return false;
    }

    /**
     * A path from the resource down its members, with the first rule that matches an element there. Every match
     * depends on the element's names and types up to the resource alone, so it is decided once per path (not once
     * per element and rule, which was a fifth of the export's CPU), and found again by member identity.
     */
    private final class Step {
        private final int firstMatch;
        /**
         * The steps below, by member identity: a handful per path, so a scan of an array beats a concurrent map's
         * lookup (about 4 % of the walk's samples in the engine bench). Replaced whole under the lock, read without it.
         */
        private volatile Next next = Next.NONE;

        private Step(int firstMatch) {
            this.firstMatch = firstMatch;
        }

        Step next(JsonElement child, JsonElement scope) {
            ElementShapes.Member member = child.member();
            Step step = next.find(member);
            return step != null ? step : add(member, child, scope);
        }

        private synchronized Step add(ElementShapes.Member member, JsonElement child, JsonElement scope) {
            Step step = next.find(member);
            if (step == null) {
                step = new Step(firstMatch(child, scope));
                next = next.with(member, step);
            }
            return step;
        }
    }

    /** Members and their steps, in two arrays of the same length; immutable. */
    private record Next(ElementShapes.Member[] members, Step[] steps) {
        static final Next NONE = new Next(new ElementShapes.Member[0], new Step[0]);

        Step find(ElementShapes.Member member) {
            for (int i = 0; i < members.length; i++) {
                if (members[i] == member) {
                    return steps[i];
                }
            }
            return null;
        }

        Next with(ElementShapes.Member member, Step step) {
            ElementShapes.Member[] m = Arrays.copyOf(members, members.length + 1);
            Step[] s = Arrays.copyOf(steps, steps.length + 1);
            m[members.length] = member;
            s[steps.length] = step;
            return new Next(m, s);
        }
    }
}

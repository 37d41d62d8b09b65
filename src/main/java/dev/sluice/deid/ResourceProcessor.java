package dev.sluice.deid;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Meta;
import org.hl7.fhir.r4.model.Resource;

/**
 * Applies the rules to one resource tree the way the reference engine's visitor does: each resource (contained and
 * Bundle entries included) is processed on its own, parent first; its rules run in file order, each matched node is
 * processed with all its descendants inside the resource, and a node processed once is skipped by every later rule,
 * so the first rule wins. Every resource that is not contained gets meta.security labels for what was done to it and
 * to the resources inside it.
 */
final class ResourceProcessor {

    private final List<CompiledRule> rules;
    private final Map<String, List<CompiledRule>> rulesByType = new ConcurrentHashMap<>();
    private final PathEngine engine;
    private final DateShiftScope dateShiftScope;
    private final Redaction redaction;
    private final DateShifter dateShifter;
    private final CryptoHash cryptoHash;
    private final Encryption encryption;
    private final Perturbation perturbation = new Perturbation();
    private final Generalization generalization;
    private final Substitution substitution;

    ResourceProcessor(AnonymizationConfig config, PathEngine engine, Redaction redaction, DateShifter dateShifter,
            CryptoHash cryptoHash, Encryption encryption, Substitution substitution) {
        this.rules = config.compiledRules();
        this.engine = engine;
        this.dateShiftScope = config.parameters().dateShiftScope();
        this.redaction = redaction;
        this.dateShifter = dateShifter;
        this.cryptoHash = cryptoHash;
        this.encryption = encryption;
        this.generalization = new Generalization(engine);
        this.substitution = substitution;
    }

    /** Anonymizes in place; see {@link Anonymizer} for what {@code scopeKey} is. */
    EnumSet<Operation> process(Resource resource, String scopeKey) {
        return new Pass(resource, scopeKey).resource(resource, null, null);
    }

    private List<CompiledRule> rulesFor(String type) {
        return rulesByType.computeIfAbsent(type, t -> CompiledRule.applicableTo(rules, t));
    }

    /** One anonymization of one top-level resource: what has been processed so far. */
    private final class Pass {
        private final Set<Object> visited = Collections.newSetFromMap(new IdentityHashMap<>());
        private final Resource top;
        private final String scopeKey;
        private final DateShifter.Offsets offsets = dateShifter.offsets();

        Pass(Resource top, String scopeKey) {
            this.top = top;
            this.scopeKey = scopeKey;
        }

        EnumSet<Operation> resource(Resource resource, Node parent, String name) {
            ResourceScope scope = ResourceScope.of(resource, parent, name);
            // the rules see instants as the reference does, through .NET's DateTimeOffset (FhirDates.referenceInstant)
            scope.root().selfAndDescendantsWithinResource(Node::toReferenceInstant);
            EnumSet<Operation> done = EnumSet.noneOf(Operation.class);
            for (CompiledRule rule : rulesFor(resource.fhirType())) {
                for (Node match : matches(rule, scope)) {
                    process(match, rule, scope, done);
                }
            }
            for (Node nested : scope.nestedResources()) {
                done.addAll(resource((Resource) nested.value(), nested.parent(), nested.name()));
            }
            if (!"contained".equals(name)) {
                label(resource, done);
            }
            return done;
        }

        private List<Node> matches(CompiledRule rule, ResourceScope scope) {
            return switch (rule.selector()) {
                case CompiledRule.Selector.Self self -> List.of(scope.root());
                case CompiledRule.Selector.ByType byType -> childrenNamed(scope.nodesOfType(byType.type()), byType.child());
                case CompiledRule.Selector.ByName byName -> childrenNamed(scope.nodesNamed(byName.name()), byName.child());
                case CompiledRule.Selector.ByExpression byExpression -> {
                    List<Node> nodes = new ArrayList<>();
                    for (Base value : engine.evaluate(scope, scope.resource(), byExpression.expression())) {
                        Node node = scope.nodeOf(value);
                        if (node != null) {
                            nodes.add(node);
                        }
                    }
                    yield nodes;
                }
            };
        }

        private void process(Node node, CompiledRule rule, ResourceScope scope, EnumSet<Operation> done) {
            if (visited.contains(node.key())) {
                return;
            }
            Operation operation = switch (rule.rule().method()) {
                case Method.Keep keep -> null;
                case Method.Redact redact -> redaction.apply(node);
                case Method.DateShift shift -> dateShifter.apply(node, dateShiftPrefix(), offsets);
                case Method.CryptoHash hash -> cryptoHash.apply(node);
                case Method.Encrypt encrypt -> encryption.apply(node);
                case Method.Substitute substitute -> substitution.apply(node, substitute.replaceWith(), visited);
                case Method.Perturb perturb -> perturbation.apply(node, perturb, n -> visited.add(n.key()), n -> visited.contains(n.key()));
                case Method.Generalize generalize -> generalization.apply(node, rule, generalize, scope);
            };
            if (operation != null) {
                done.add(operation);
            }
            visited.add(node.key());
            for (Node child : node.children()) {
                if (!child.isResource()) {
                    process(child, rule, scope, done);
                }
            }
        }

        /** The scope key when the configured scope uses one, else the top resource's id as it is now. */
        private String dateShiftPrefix() {
            if (dateShiftScope != DateShiftScope.RESOURCE && scopeKey != null && !scopeKey.isEmpty()) {
                return scopeKey;
            }
            String id = top.getIdElement().getIdPart();
            return id == null ? "" : id;
        }
    }

    private static void label(Resource resource, EnumSet<Operation> done) {
        if (done.isEmpty()) {
            return;
        }
        Meta meta = resource.getMeta();
        for (Operation operation : done) {
            boolean present = false;
            for (Coding coding : meta.getSecurity()) {
                present |= operation.code().equalsIgnoreCase(coding.getCode());
            }
            if (!present) {
                meta.addSecurity(operation.label());
            }
        }
        // The reference adds the labels on a POCO copy of meta (AddSecurityTag: ToPoco<Meta>), which re-reads and
        // re-writes lastUpdated as a DateTimeOffset: a shifted "T00:00:00.000+00:00" loses its zero fraction.
        if (meta.hasLastUpdatedElement() && meta.getLastUpdatedElement().getValueAsString() != null) {
            meta.getLastUpdatedElement().setValueAsString(FhirDates.referenceInstant(meta.getLastUpdatedElement().getValueAsString()));
        }
    }

    private static List<Node> childrenNamed(List<Node> nodes, String child) {
        if (child == null) {
            return nodes;
        }
        List<Node> result = new ArrayList<>();
        for (Node node : nodes) {
            for (Node c : node.children()) {
                if (child.equals(c.name())) {
                    result.add(c);
                }
            }
        }
        return result;
    }
}

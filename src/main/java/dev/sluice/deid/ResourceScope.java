package dev.sluice.deid;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;

/**
 * The elements of one resource, indexed once before its rules run: by identity (to map FHIRPath results back to
 * their place), by type and by name (for {@code nodesByType} / {@code nodesByName}). Nested resources (contained,
 * Bundle entries) appear as nodes but are not entered: each is processed as a resource of its own.
 */
final class ResourceScope {

    private final Resource resource;
    private final Node root;
    private final Map<Object, Node> byIdentity = new IdentityHashMap<>();
    private final Map<String, List<Node>> byType = new HashMap<>();
    private final Map<String, List<Node>> byName = new HashMap<>();
    private final List<Node> nestedResources = new ArrayList<>();

    private ResourceScope(Resource resource, Node root) {
        this.resource = resource;
        this.root = root;
        byIdentity.put(root.key(), root);
        walk(root);
    }

    static ResourceScope of(Resource resource, Node parent, String name) {
        return new ResourceScope(resource, new Node(resource, parent, name));
    }

    Resource resource() {
        return resource;
    }

    Node root() {
        return root;
    }

    List<Node> nestedResources() {
        return nestedResources;
    }

    List<Node> nodesOfType(String type) {
        return byType.getOrDefault(type, List.of());
    }

    List<Node> nodesNamed(String name) {
        return byName.getOrDefault(name, List.of());
    }

    /** The node behind a FHIRPath result, or null when the result is not an element of this resource. */
    Node nodeOf(Base value) {
        Node node = byIdentity.get(Node.identityOf(value));
        if (node == null && value instanceof IdType id) {
            // HAPI's FHIRPath answers Resource.id with a fresh IdType: find the resource id it was read from
            for (Node candidate : nodesNamed("id")) {
                if (candidate.isResourceId() && id.getIdPart() != null && id.getIdPart().equals(candidate.text())) {
                    return candidate;
                }
            }
            if (root.isResource() && id.getIdPart() != null) {
                for (Node child : root.children()) {
                    if (child.isResourceId() && id.getIdPart().equals(child.text())) {
                        return child;
                    }
                }
            }
        }
        return node;
    }

    private void walk(Node node) {
        for (Property property : node.value().children()) {
            if (!property.hasValues()) {
                continue;
            }
            String name = property.getName();
            if (name.endsWith("[x]")) {
                name = name.substring(0, name.length() - 3);
            }
            for (Base value : property.getValues()) {
                if (value == null) {
                    continue;
                }
                Node child = new Node(value, node, name);
                node.children().add(child);
                byIdentity.putIfAbsent(child.key(), child);
                byType.computeIfAbsent(child.type(), k -> new ArrayList<>()).add(child);
                byName.computeIfAbsent(name, k -> new ArrayList<>()).add(child);
                if (child.isResource()) {
                    nestedResources.add(child);
                } else {
                    walk(child);
                }
            }
        }
    }
}

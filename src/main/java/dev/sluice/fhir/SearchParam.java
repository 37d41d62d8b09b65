package dev.sluice.fhir;

import java.util.List;
import java.util.Objects;

/**
 * One R4 search parameter of one resource type, as HAPI's metadata defines it.
 *
 * @param expression the FHIRPath expression its values come from (empty for special ones)
 * @param targets the resource types a reference parameter may point to (empty: any)
 * @param components the parts of a composite parameter, in order (empty otherwise)
 * @param key the stable number that identifies this parameter in the index tables
 */
public record SearchParam(
    String type, String name, ParamKind kind, String expression, List<String> targets,
    List<Component> components, int key) {

  public SearchParam {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    expression = expression == null ? "" : expression;
    targets = List.copyOf(targets);
    components = List.copyOf(components);
  }

  /**
   * One part of a composite parameter.
   *
   * @param expression relative to each value of the composite's own expression
   * @param key the index key of this part's rows
   */
  public record Component(ParamKind kind, String expression, int key) {
    public Component {
      expression = expression == null ? "" : expression;
    }
  }

  /** Index key of the display texts of a token parameter ({@code :text}). */
  public int textKey() {
    return keyOf(type, name + ":text");
  }

  /** Index key of identifier type + value pairs of a token parameter ({@code :of-type}). */
  public int ofTypeKey() {
    return keyOf(type, name + ":of-type");
  }

  /**
   * The index key of a parameter: a hash of its type and name, so every server node derives
   * the same key without a registry table ({@link SearchParameters} rejects collisions).
   */
  static int keyOf(String type, String name) {
    return (type + "." + name).hashCode();
  }
}

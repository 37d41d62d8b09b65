package dev.sluice.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToIntFunction;

/**
 * One R4 search parameter of one resource type, as HAPI's metadata defines it.
 *
 * @param expression the FHIRPath expression its values come from (empty for special ones)
 * @param targets the resource types a reference parameter may point to (empty: any)
 * @param components the parts of a composite parameter, in order (empty otherwise)
 * @param key the stable number that identifies this parameter in the index tables
 * @param singleValued true when a resource has at most one value for it (its path is one
 *     element of cardinality 0..1), so that AND-ed ranges can be tested on the same value
 * @param indexed the part of {@code expression} indexed under {@code key}: the union parts
 *     not already indexed by a {@code subsumed} parameter (empty when there are none left)
 * @param subsumed parameters whose values are all values of this one ({@code code} for
 *     {@code combo-code = code | component.code}): their rows count as this one's too
 * @param derivedFrom for a reference parameter that is another one restricted to a target type
 *     ({@code Observation.patient = Observation.subject.where(resolve() is Patient)}): that
 *     parameter's rows of that type count as this one's; null otherwise
 */
public record SearchParam(
    String type, String name, ParamKind kind, String expression, List<String> targets,
    List<Component> components, int key, boolean singleValued, String indexed, List<SearchParam> subsumed,
    Derived derivedFrom) {

  public SearchParam {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(kind, "kind");
    expression = expression == null ? "" : expression;
    indexed = indexed == null ? expression : indexed;
    targets = List.copyOf(targets);
    components = List.copyOf(components);
    subsumed = List.copyOf(subsumed);
  }

  public SearchParam(String type, String name, ParamKind kind, String expression, List<String> targets,
      List<Component> components, int key, boolean singleValued, String indexed, List<SearchParam> subsumed) {
    this(type, name, kind, expression, targets, components, key, singleValued, indexed, subsumed, null);
  }

  SearchParam(String type, String name, ParamKind kind, String expression, List<String> targets,
      List<Component> components, int key, boolean singleValued) {
    this(type, name, kind, expression, targets, components, key, singleValued, expression, List.of());
  }

  /**
   * The reference parameter {@code source} (index key {@code key}) restricted to references
   * whose target is a {@code targetType}: its local rows with that target type are this
   * parameter's values.
   */
  public record Derived(String source, int key, String targetType) {
    public Derived {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(targetType, "targetType");
    }
  }

  /**
   * The rows of other parameters that count as this one's besides {@link #keys()}: those of the
   * parameter it is derived from, and of those its subsumed parameters are derived from.
   */
  public List<Derived> derivations() {
    List<Derived> out = new ArrayList<>();
    if (derivedFrom != null) {
      out.add(derivedFrom);
    }
    for (SearchParam s : subsumed) {
      out.addAll(s.derivations());
    }
    return List.copyOf(out);
  }

  /** Index keys holding this parameter's values: its own and those of the parameters it subsumes. */
  public List<Integer> keys() {
    return collect(SearchParam::key);
  }

  public List<Integer> textKeys() {
    return collect(SearchParam::textKey);
  }

  public List<Integer> ofTypeKeys() {
    return collect(SearchParam::ofTypeKey);
  }

  /**
   * Index keys of part {@code i} of a composite, as {@link #keys()}: a part that is a plain
   * parameter's value ({@link Component#plainKey}) is found under that parameter's key too.
   */
  public List<Integer> componentKeys(int i) {
    List<Integer> keys = new ArrayList<>(collect(p -> p.components().get(i).key()));
    keys.addAll(collect(p -> p.components().get(i).plainKey()));
    keys.removeIf(k -> k == 0);
    return List.copyOf(keys);
  }

  /**
   * True when every part of this composite is found under plain parameters' keys, so that it
   * needs no rows of its own: its only value is the resource itself ({@code code-value-quantity
   * = Observation} with {@code code} and {@code value-quantity}), and plain rows all have
   * {@code grp} 0, which joins the parts of one resource as one composite value.
   */
  public boolean readsPlainRows() {
    return !components.isEmpty() && components.stream().allMatch(c -> c.plainKey() != 0);
  }

  private List<Integer> collect(ToIntFunction<SearchParam> key) {
    List<Integer> keys = new ArrayList<>();
    keys.add(key.applyAsInt(this));
    for (SearchParam s : subsumed) {
      keys.addAll(s.collect(key));
    }
    return List.copyOf(keys);
  }

  /**
   * One part of a composite parameter.
   *
   * @param expression relative to each value of the composite's own expression
   * @param key the index key of this part's rows
   * @param plainKey the key of the plain parameter of the same values, when the composite's only
   *     value is the resource itself; 0 otherwise
   */
  public record Component(ParamKind kind, String expression, int key, int plainKey) {
    public Component {
      expression = expression == null ? "" : expression;
    }

    public Component(ParamKind kind, String expression, int key) {
      this(kind, expression, key, 0);
    }
  }

  /** Index key of the {@code :text} texts that no token row of the parameter carries (in idx_string before V6). */
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

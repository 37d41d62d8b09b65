package dev.sluice.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Every R4 search parameter of every resource type, from HAPI's metadata
 * ({@code getResourceDefinition(type).getSearchParams()}), plus {@code _source}, which R4
 * defines on Resource but HAPI's structures do not list.
 */
public final class SearchParameters {
  private static final Pattern ONE_ELEMENT = Pattern.compile("\\(?(\\w+)\\.(\\w+)(?: as \\w+\\))?");
  private static final Pattern RESTRICTED = Pattern.compile("(.+)\\.where\\(resolve\\(\\) is (\\w+)\\)");
  private static final Pattern BASE_TYPE = Pattern.compile("(^|\\|\\s*|\\(\\s*)(?:Domain)?Resource\\.");
  private final Map<String, Map<String, SearchParam>> byType;

  public SearchParameters(FhirModel fhir) {
    FhirContext context = fhir.context();
    Map<String, RuntimeSearchParam> byUri = new HashMap<>();
    for (String type : fhir.resourceTypes()) {
      for (RuntimeSearchParam p : context.getResourceDefinition(type).getSearchParams()) {
        if (p.getUri() != null) {
          byUri.putIfAbsent(p.getUri(), p);
        }
      }
    }
    Map<String, Map<String, SearchParam>> all = new HashMap<>();
    Map<Integer, String> keys = new HashMap<>();
    for (String type : fhir.resourceTypes()) {
      RuntimeResourceDefinition def = context.getResourceDefinition(type);
      Map<String, SearchParam> params = new TreeMap<>();
      for (RuntimeSearchParam p : def.getSearchParams()) {
        params.put(p.getName(), convert(type, def, p, byUri));
      }
      params.putIfAbsent("_source", new SearchParam(type, "_source", ParamKind.URI, type + ".meta.source",
          List.of(), List.of(), SearchParam.keyOf(type, "_source"), true));
      readPlainRows(type, params);
      derive(fhir, params);
      subsume(params);
      for (SearchParam p : params.values()) {
        claim(keys, p.key(), type + "." + p.name());
        claim(keys, p.textKey(), type + "." + p.name() + ":text");
        claim(keys, p.ofTypeKey(), type + "." + p.name() + ":of-type");
        for (SearchParam.Component c : p.components()) {
          claim(keys, c.key(), type + "." + p.name() + "$" + c.expression());
        }
      }
      all.put(type, Collections.unmodifiableMap(params));
    }
    this.byType = Map.copyOf(all);
  }

  /**
   * A reference parameter whose expression is another single-path reference parameter's
   * followed by {@code .where(resolve() is T)} ({@code Observation.patient =
   * Observation.subject.where(resolve() is Patient)}, 47 in R4) is derived from it: the
   * other's local rows of type T are its values, so its expression is not evaluated (the
   * engine's slow path) and the same reference is not indexed twice. Only the other's
   * non-local references ({@code url} rows) still give it rows of its own (ResourceIndexer).
   */
  private static void derive(FhirModel fhir, Map<String, SearchParam> params) {
    Map<String, SearchParam> byExpression = new HashMap<>();
    for (SearchParam s : params.values()) {
      // a union source would make the textual match wrong: the where() binds to its last part only
      if (s.kind() == ParamKind.REFERENCE && !s.expression().isEmpty()
          && ParamExpressions.topLevelUnion(s.expression()).size() == 1
          && !RESTRICTED.matcher(s.expression()).matches()) {
        byExpression.putIfAbsent(s.expression(), s);
      }
    }
    for (SearchParam p : List.copyOf(params.values())) {
      Matcher m = RESTRICTED.matcher(p.expression());
      if (p.kind() != ParamKind.REFERENCE || !m.matches()) {
        continue;
      }
      SearchParam source = byExpression.get(m.group(1));
      if (source != null && fhir.isResourceType(m.group(2))) {
        params.put(p.name(), new SearchParam(p.type(), p.name(), p.kind(), p.expression(), p.targets(),
            p.components(), p.key(), p.singleValued(), "", List.of(),
            new SearchParam.Derived(source.name(), source.key(), m.group(2))));
      }
    }
  }

  /**
   * A parameter whose expression is a union that contains the whole expression of others of
   * the same kind ({@code combo-code = Observation.code | Observation.component.code} holds
   * {@code code} and {@code component-code}) indexes only the parts left over and is searched
   * over their keys too: the same answers from fewer index rows (Observation's combo-*
   * parameters repeated a fifth of its rows).
   */
  private static void subsume(Map<String, SearchParam> params) {
    List<SearchParam> bySize = new ArrayList<>(params.values());
    // smaller parameters first, so that a subsumed one is final when a bigger one takes it
    bySize.sort(Comparator.comparingInt(p -> ParamExpressions.topLevelUnion(p.expression()).size()));
    for (SearchParam p : bySize) {
      if (p.kind() == ParamKind.SPECIAL || p.expression().isEmpty()) {
        continue;
      }
      Set<String> parts = new LinkedHashSet<>(ParamExpressions.topLevelUnion(p.expression()));
      if (parts.size() < 2) {
        continue;
      }
      List<SearchParam> candidates = new ArrayList<>();
      for (SearchParam q : params.values()) {
        Set<String> qParts = new LinkedHashSet<>(ParamExpressions.topLevelUnion(q.expression()));
        if (q != p && q.kind() == p.kind() && !q.expression().isEmpty() && qParts.size() < parts.size()
            && parts.containsAll(qParts) && q.components().size() == p.components().size()
            && sameComponents(p, q)) {
          candidates.add(q);
        }
      }
      candidates.sort(Comparator.comparingInt(
          (SearchParam q) -> ParamExpressions.topLevelUnion(q.expression()).size()).reversed()
          .thenComparing(SearchParam::name));
      Set<String> left = new LinkedHashSet<>(parts);
      List<SearchParam> taken = new ArrayList<>();
      for (SearchParam q : candidates) {
        List<String> qParts = ParamExpressions.topLevelUnion(q.expression());
        if (left.containsAll(qParts)) {
          left.removeAll(qParts);
          taken.add(params.get(q.name()));
        }
      }
      if (!taken.isEmpty()) {
        params.put(p.name(), new SearchParam(p.type(), p.name(), p.kind(), p.expression(), p.targets(),
            p.components(), p.key(), p.singleValued(), String.join(" | ", left), taken, p.derivedFrom()));
      }
    }
  }

  /**
   * A composite whose expression is the resource itself has one value, the resource, and each
   * part is then the value of a plain parameter when their expressions agree
   * ({@code code-value-quantity}'s {@code (value as Quantity) | (value as SampledData)} is
   * {@code value-quantity}'s {@code (Observation.value as Quantity) | (Observation.value as
   * SampledData)}): the parts are read from the plain rows instead of being indexed twice
   * (on Synthea data a twelfth of all index rows).
   */
  private static void readPlainRows(String type, Map<String, SearchParam> params) {
    Map<String, SearchParam> plainByExpression = new HashMap<>();
    for (SearchParam q : params.values()) {
      if (q.components().isEmpty() && !q.expression().isEmpty() && q.kind() != ParamKind.SPECIAL) {
        plainByExpression.putIfAbsent(q.kind() + " " + q.expression(), q);
      }
    }
    for (SearchParam p : List.copyOf(params.values())) {
      if (p.kind() != ParamKind.COMPOSITE || !p.expression().equals(type)) {
        continue;
      }
      List<SearchParam.Component> components = new ArrayList<>();
      for (SearchParam.Component c : p.components()) {
        SearchParam plain = plainByExpression.get(c.kind() + " " + absolute(type, c.expression()));
        if (plain == null) {
          break;
        }
        components.add(new SearchParam.Component(c.kind(), c.expression(), c.key(), plain.key()));
      }
      if (components.size() == p.components().size()) {
        params.put(p.name(), new SearchParam(p.type(), p.name(), p.kind(), p.expression(), p.targets(), components,
            p.key(), p.singleValued(), p.indexed(), p.subsumed()));
      }
    }
  }

  /** A composite part's expression from the resource: {@code (value as Quantity)} as {@code (Observation.value as Quantity)}. */
  static String absolute(String type, String relative) {
    List<String> parts = new ArrayList<>();
    for (String part : ParamExpressions.topLevelUnion(relative)) {
      parts.add(part.startsWith("(") ? "(" + type + "." + part.substring(1) : type + "." + part);
    }
    return String.join(" | ", parts);
  }

  private static boolean sameComponents(SearchParam p, SearchParam q) {
    for (int i = 0; i < p.components().size(); i++) {
      SearchParam.Component a = p.components().get(i);
      SearchParam.Component b = q.components().get(i);
      if (a.kind() != b.kind() || !a.expression().equals(b.expression())) {
        return false;
      }
    }
    return true;
  }

  private static void claim(Map<Integer, String> keys, int key, String what) {
    String other = keys.putIfAbsent(key, what);
    if (other != null && !other.equals(what)) {
      throw new IllegalStateException("Search index key collision between " + other + " and " + what);
    }
  }

  private static SearchParam convert(
      String type, RuntimeResourceDefinition definition, RuntimeSearchParam p, Map<String, RuntimeSearchParam> byUri) {
    List<SearchParam.Component> components = new ArrayList<>();
    if (p.getParamType() == RestSearchParameterTypeEnum.COMPOSITE) {
      int i = 0;
      for (RuntimeSearchParam.Component c : p.getComponents()) {
        RuntimeSearchParam target = byUri.get(c.getReference());
        ParamKind kind = target == null || target.getPath() == null ? ParamKind.SPECIAL : ParamKind.of(target.getParamType());
        String expression = c.getExpression() != null ? c.getExpression()
            : target == null ? null : relative(p.getPath(), target.getPath());
        components.add(new SearchParam.Component(kind, expression, SearchParam.keyOf(type, p.getName() + "$" + i++)));
      }
    }
    ParamKind kind = ParamKind.of(p.getParamType());
    if (kind == ParamKind.COMPOSITE && components.stream().anyMatch(c -> c.kind() == ParamKind.SPECIAL
        || c.kind() == ParamKind.COMPOSITE)) {
      kind = ParamKind.SPECIAL;
    }
    String expression = ownType(type, p.getPath());
    return new SearchParam(type, p.getName(), kind, expression, List.copyOf(p.getTargets()),
        components, SearchParam.keyOf(type, p.getName()), singleValued(definition, expression));
  }

  /**
   * {@code Type.element} or {@code (Type.element as X)}, or a union of such on one element,
   * where the element is 0..1.
   */
  static boolean singleValued(RuntimeResourceDefinition definition, String expression) {
    if (expression == null || expression.isBlank()) {
      return false;
    }
    String element = null;
    for (String part : ParamExpressions.topLevelUnion(expression)) {
      Matcher m = ONE_ELEMENT.matcher(part);
      if (!m.matches() || !m.group(1).equals(definition.getName())
          || (element != null && !element.equals(m.group(2)))) {
        return false;
      }
      element = m.group(2);
    }
    BaseRuntimeChildDefinition child = definition.getChildByName(element);
    if (child == null) {
      child = definition.getChildByName(element + "[x]");
    }
    return child != null && child.getMax() == 1;
  }

  /**
   * The expression of a composite's component relative to each value of the composite's own
   * expression. HAPI's R4 metadata gives no component expressions, only the parameter each
   * component refers to, so they are derived from that parameter's expression: each union
   * part belongs to the longest composite base it starts with, and loses that base
   * ({@code Observation.component.value as Quantity} under {@code Observation.component}
   * becomes {@code value as Quantity}).
   */
  static String relative(String compositePath, String componentPath) {
    List<String> bases = ParamExpressions.topLevelUnion(compositePath);
    Set<String> parts = new LinkedHashSet<>();
    for (String part : ParamExpressions.topLevelUnion(componentPath)) {
      String best = null;
      for (String base : bases) {
        String stripped = part.startsWith("(") ? part.substring(1) : part;
        if (stripped.startsWith(base + ".") && (best == null || base.length() > best.length())) {
          best = base;
        }
      }
      if (best != null) {
        parts.add(part.replaceFirst(Pattern.quote(best + "."), ""));
      }
    }
    return String.join(" | ", parts);
  }

  /**
   * {@code Resource.meta.tag} as {@code Observation.meta.tag}: the engine matches a leading
   * type name exactly, as it has no type hierarchy without the full structure definitions.
   */
  static String ownType(String type, String expression) {
    return expression == null ? null : BASE_TYPE.matcher(expression).replaceAll("$1" + type + ".");
  }

  public Optional<SearchParam> find(String type, String name) {
    Map<String, SearchParam> params = byType.get(type);
    return params == null ? Optional.empty() : Optional.ofNullable(params.get(name));
  }

  /** The parameters of one type, sorted by name. */
  public Iterable<SearchParam> of(String type) {
    return byType.getOrDefault(type, Map.of()).values();
  }
}

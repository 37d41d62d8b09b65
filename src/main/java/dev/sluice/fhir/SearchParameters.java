package dev.sluice.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.context.RuntimeSearchParam;
import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Every R4 search parameter of every resource type, from HAPI's metadata
 * ({@code getResourceDefinition(type).getSearchParams()}), plus {@code _source}, which R4
 * defines on Resource but HAPI's structures do not list.
 */
public final class SearchParameters {
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
        params.put(p.getName(), convert(type, p, byUri));
      }
      params.putIfAbsent("_source", new SearchParam(type, "_source", ParamKind.URI, type + ".meta.source",
          List.of(), List.of(), SearchParam.keyOf(type, "_source")));
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

  private static void claim(Map<Integer, String> keys, int key, String what) {
    String other = keys.putIfAbsent(key, what);
    if (other != null && !other.equals(what)) {
      throw new IllegalStateException("Search index key collision between " + other + " and " + what);
    }
  }

  private static SearchParam convert(String type, RuntimeSearchParam p, Map<String, RuntimeSearchParam> byUri) {
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
    return new SearchParam(type, p.getName(), kind, ownType(type, p.getPath()), List.copyOf(p.getTargets()),
        components, SearchParam.keyOf(type, p.getName()));
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

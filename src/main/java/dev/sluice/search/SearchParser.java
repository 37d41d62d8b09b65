package dev.sluice.search;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.ParamKind;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses FHIR search parameters into a {@link SearchQuery}, with the R4 search page's rules:
 * a comma inside a value is OR, a repeated parameter is AND; modifiers, prefixes, chains and
 * {@code _has}. Every error is a 400 {@link FhirException} naming the parameter.
 *
 * <p>The export calls {@link #parse(String, String)} with a {@code _typeFilter} query.
 */
public final class SearchParser {
  static final int MAX_COUNT = 1000;
  private static final int MAX_CHAIN_DEPTH = 4;

  /** Result parameters and those the HTTP layer handles itself. */
  private static final Set<String> IGNORED = Set.of("_format", "_pretty", "_cursor");
  /** The parameters that shape a search's result instead of selecting its matches: these and {@link #IGNORED}. */
  private static final Set<String> RESULT_PARAMETERS = Set.of("_count", "_sort", "_total", "_summary", "_elements",
      "_include", "_include:iterate", "_revinclude", "_revinclude:iterate", "_format", "_pretty", "_cursor");

  private final FhirModel fhir;
  private final SearchParameters parameters;
  private final OwnBases ownBases;
  private final SearchValues values;

  /** @param ownBases absolute references under these are searched as the local {@code Type/id} */
  public SearchParser(FhirModel fhir, SearchParameters parameters, OwnBases ownBases) {
    this.fhir = fhir;
    this.parameters = parameters;
    this.ownBases = ownBases;
    this.values = new SearchValues(fhir, ownBases);
  }

  /** This parser, taking {@code requestBase} (the base a request reached the server under) as an own base too. */
  public SearchParser withBase(String requestBase) {
    return new SearchParser(fhir, parameters, ownBases.with(requestBase));
  }

  /**
   * Parses a query string such as {@code status=active&code=http://loinc.org|1234-5}
   * (URL-encoded, without the leading {@code ?}); strict: unknown parameters are errors.
   */
  /** The search parameter {@code name} of {@code type}, as the index holds it. */
  public java.util.Optional<SearchParam> parameter(String type, String name) {
    return parameters.find(type, name);
  }

  public SearchQuery parse(String type, String queryString) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    if (queryString != null && !queryString.isBlank()) {
      for (String pair : queryString.split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String name = decode(eq < 0 ? pair : pair.substring(0, eq));
        String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
        params.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
      }
    }
    return parse(type, params, false);
  }

  private static String decode(String s) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest("Malformed URL encoding in '" + s + "'", s);
    }
  }

  /**
   * @param params decoded names to their values, one value per occurrence of the parameter
   * @param lenient ignore unknown parameters (reported in {@link SearchQuery#issues()}) instead of failing
   */
  public SearchQuery parse(String type, Map<String, List<String>> params, boolean lenient) {
    if (!fhir.isResourceType(type)) {
      throw FhirException.notFound("'" + type + "' is not a FHIR R4 resource type");
    }
    List<Criterion> criteria = new ArrayList<>();
    List<SearchQuery.SortKey> sort = new ArrayList<>();
    List<SearchQuery.Include> includes = new ArrayList<>();
    List<String> elements = new ArrayList<>();
    List<Issue> issues = new ArrayList<>();
    List<String> resultParameters = new ArrayList<>();
    Integer count = null;
    SearchQuery.Total total = SearchQuery.Total.NONE;
    boolean summaryCount = false;
    for (var entry : params.entrySet()) {
      String name = entry.getKey();
      for (String value : entry.getValue()) {
        if (name.indexOf('\0') >= 0 || value.indexOf('\0') >= 0) {
          throw FhirException.badRequest("Search parameters must not contain NUL characters", name);
        }
        if (RESULT_PARAMETERS.contains(name) && !resultParameters.contains(name)) {
          resultParameters.add(name);
        }
        switch (name) {
          case "_count" -> count = count(value);
          case "_sort" -> sort.addAll(sort(type, value));
          case "_total" -> total = total(value);
          case "_summary" -> summaryCount = summary(value);
          case "_elements" -> elements.addAll(elements(value));
          case "_include", "_include:iterate", "_revinclude", "_revinclude:iterate" ->
              includes.add(include(type, name, value));
          default -> {
            if (IGNORED.contains(name)) {
              continue;
            }
            try {
              criteria.add(criterion(type, name, value, 0));
            } catch (UnknownParameter e) {
              if (!lenient) {
                throw FhirException.badRequest(e.getMessage(), name);
              }
              issues.add(Issue.warning(Issue.Code.NOT_SUPPORTED, e.getMessage() + "; ignored (Prefer: handling=lenient)", name));
            }
          }
        }
      }
    }
    return new SearchQuery(type, criteria, sort, count, total, summaryCount, elements, includes, issues,
        resultParameters);
  }

  /** An unknown parameter: an error, or with lenient handling a warning. */
  private static final class UnknownParameter extends RuntimeException {
    UnknownParameter(String message) {
      super(message, null, false, false);
    }
  }

  private Criterion criterion(String type, String name, String value, int depth) {
    if (depth > MAX_CHAIN_DEPTH) {
      throw FhirException.badRequest("Chains are limited to " + MAX_CHAIN_DEPTH + " levels", name);
    }
    if (name.startsWith("_has:")) {
      return has(type, name, value, depth);
    }
    int dot = name.indexOf('.');
    String head = dot < 0 ? name : name.substring(0, dot);
    int colon = head.indexOf(':');
    String paramName = colon < 0 ? head : head.substring(0, colon);
    String modifier = colon < 0 ? null : head.substring(colon + 1);
    if (paramName.equals("_id") && dot < 0) {
      if (modifier != null) {
        throw FhirException.notSupported("Modifier ':" + modifier + "' is not supported on _id", name);
      }
      List<String> ids = Escaping.split(value, ',').stream().map(Escaping::unescape).map(String::trim).toList();
      if (ids.contains("")) {
        // as for every other parameter: an empty value matched nothing, and a conditional create on it created
        throw FhirException.badRequest("Empty value for search parameter '" + name + "'", name);
      }
      return new Criterion.Ids(ids);
    }
    SearchParam param = parameters.find(type, paramName)
        .filter(p -> p.kind() != ParamKind.SPECIAL)
        .orElseThrow(() -> new UnknownParameter("Unknown search parameter '" + paramName + "' for " + type));
    if (dot >= 0) {
      return chain(param, modifier, name, name.substring(dot + 1), value, depth);
    }
    if ("missing".equals(modifier)) {
      return switch (value) {
        case "true" -> new Criterion.Missing(param, true);
        case "false" -> new Criterion.Missing(param, false);
        default -> throw FhirException.badRequest(name + " must be true or false, got '" + value + "'", name);
      };
    }
    Modifier mod = modifier(param, modifier, name);
    String refType = param.kind() == ParamKind.REFERENCE && modifier != null ? modifier : null;
    List<SearchValue> anyOf = new ArrayList<>();
    for (String part : Escaping.split(value, ',')) {
      anyOf.add(values.parse(param, mod, refType, part, name));
    }
    return new Criterion.Match(param, mod, anyOf);
  }

  private Modifier modifier(SearchParam param, String modifier, String name) {
    if (modifier == null) {
      return Modifier.NONE;
    }
    Modifier mod = switch (param.kind()) {
      case STRING -> switch (modifier) {
        case "exact" -> Modifier.EXACT;
        case "contains" -> Modifier.CONTAINS;
        default -> null;
      };
      case TOKEN -> switch (modifier) {
        case "not" -> Modifier.NOT;
        case "text" -> Modifier.TEXT;
        case "of-type" -> Modifier.OF_TYPE;
        default -> null;
      };
      case URI -> "below".equals(modifier) ? Modifier.BELOW : null;
      case REFERENCE -> fhir.isResourceType(modifier)
          && (param.targets().isEmpty() || param.targets().contains(modifier)) ? Modifier.NONE : null;
      case DATE, NUMBER, QUANTITY, COMPOSITE, SPECIAL -> null;
    };
    if (mod == null) {
      throw FhirException.notSupported("Modifier ':" + modifier + "' is not supported on the "
          + param.kind().code() + " parameter '" + param.name() + "'", name);
    }
    return mod;
  }

  private Criterion chain(SearchParam param, String modifier, String name, String rest, String value, int depth) {
    if (param.kind() != ParamKind.REFERENCE) {
      throw FhirException.badRequest("'" + param.name() + "' is not a reference parameter, so it cannot be chained", name);
    }
    List<String> types;
    if (modifier != null) {
      if (!fhir.isResourceType(modifier)) {
        throw FhirException.badRequest("':" + modifier + "' is not a resource type", name);
      }
      types = List.of(modifier);
    } else {
      String chained = rest.split("[.:]", 2)[0];
      types = (param.targets().isEmpty() ? List.copyOf(fhir.resourceTypes()) : param.targets()).stream()
          .filter(t -> chained.equals("_id") || parameters.find(t, chained).isPresent())
          .toList();
      if (types.isEmpty()) {
        throw new UnknownParameter("No resource type that '" + param.name() + "' points to has a parameter '"
            + chained + "'");
      }
    }
    List<Criterion> anyOf = new ArrayList<>();
    for (String t : types) {
      anyOf.add(new Criterion.Chain(param, t, criterion(t, rest, value, depth + 1)));
    }
    return anyOf.size() == 1 ? anyOf.getFirst() : new Criterion.AnyOf(anyOf);
  }

  /** {@code _has:Observation:patient:code=1234} and nested {@code _has:A:x:_has:B:y:param}. */
  private Criterion has(String type, String name, String value, int depth) {
    String[] parts = name.split(":", 4);
    if (parts.length < 4) {
      throw FhirException.badRequest("_has needs the form _has:Type:reference:parameter", name);
    }
    String source = parts[1];
    if (!fhir.isResourceType(source)) {
      throw FhirException.badRequest("'" + source + "' in " + name + " is not a resource type", name);
    }
    SearchParam reference = parameters.find(source, parts[2])
        .filter(p -> p.kind() == ParamKind.REFERENCE)
        .orElseThrow(() -> FhirException.badRequest("'" + parts[2] + "' is not a reference parameter of " + source, name));
    if (!reference.targets().isEmpty() && !reference.targets().contains(type)) {
      throw FhirException.badRequest(source + "." + parts[2] + " never points to a " + type, name);
    }
    return new Criterion.Has(source, reference, criterion(source, parts[3], value, depth + 1));
  }

  private static Integer count(String value) {
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 0) {
        throw FhirException.badRequest("_count must not be negative, got " + value, "_count");
      }
      return Math.min(n, MAX_COUNT);
    } catch (NumberFormatException e) {
      throw FhirException.badRequest("_count must be a whole number, got '" + value + "'", "_count");
    }
  }

  private List<SearchQuery.SortKey> sort(String type, String value) {
    List<SearchQuery.SortKey> keys = new ArrayList<>();
    for (String part : value.split(",")) {
      String p = part.trim();
      boolean descending = p.startsWith("-");
      String name = descending ? p.substring(1) : p;
      if (name.equals("_id")) {
        keys.add(new SearchQuery.SortKey(null, descending));
        continue;
      }
      SearchParam param = parameters.find(type, name)
          .filter(sp -> sp.kind() != ParamKind.SPECIAL && sp.kind() != ParamKind.COMPOSITE)
          .orElseThrow(() -> FhirException.badRequest("Cannot sort " + type + " by '" + name + "'", "_sort"));
      keys.add(new SearchQuery.SortKey(param, descending));
    }
    return keys;
  }

  private static SearchQuery.Total total(String value) {
    return switch (value) {
      case "none" -> SearchQuery.Total.NONE;
      case "estimate" -> SearchQuery.Total.ESTIMATE;
      case "accurate" -> SearchQuery.Total.ACCURATE;
      default -> throw FhirException.badRequest("_total must be none, estimate or accurate, got '" + value + "'", "_total");
    };
  }

  private static boolean summary(String value) {
    return switch (value) {
      case "count" -> true;
      case "false" -> false;
      default -> throw FhirException.notSupported("_summary=" + value + " is not supported (count and false are)", "_summary");
    };
  }

  private static List<String> elements(String value) {
    List<String> names = new ArrayList<>();
    for (String e : value.split(",")) {
      String n = e.trim();
      if (!n.matches("[a-zA-Z][a-zA-Z0-9]*(\\[x])?")) {
        throw FhirException.badRequest("'" + n + "' is not an element name", "_elements");
      }
      names.add(n);
    }
    return names;
  }

  private SearchQuery.Include include(String type, String name, String value) {
    boolean reverse = name.startsWith("_revinclude");
    boolean iterate = name.endsWith(":iterate");
    String[] parts = value.split(":");
    if (parts.length < 2 || parts.length > 3) {
      throw FhirException.badRequest(name + " must be Type:parameter or Type:parameter:TargetType, got '" + value + "'", name);
    }
    if (parts[1].equals("*")) {
      throw FhirException.notSupported(name + "=" + value + " (wildcard) is not supported", name);
    }
    if (!fhir.isResourceType(parts[0])) {
      throw FhirException.badRequest("'" + parts[0] + "' is not a resource type", name);
    }
    if (!reverse && !iterate && !parts[0].equals(type)) {
      throw FhirException.badRequest(name + "=" + value + " must start with the searched type " + type, name);
    }
    SearchParam reference = parameters.find(parts[0], parts[1])
        .filter(p -> p.kind() == ParamKind.REFERENCE)
        .orElseThrow(() -> FhirException.badRequest("'" + parts[1] + "' is not a reference parameter of " + parts[0], name));
    String target = parts.length == 3 ? parts[2] : null;
    if (target != null && !fhir.isResourceType(target)) {
      throw FhirException.badRequest("'" + target + "' is not a resource type", name);
    }
    return new SearchQuery.Include(reference, target, reverse, iterate);
  }
}

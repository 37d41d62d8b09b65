package dev.sluice.fhir;

import ca.uhn.fhir.context.FhirContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.exceptions.FHIRException;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.fhirpath.ExpressionNode;
import org.hl7.fhir.r4.fhirpath.FHIRPathEngine;
import org.hl7.fhir.r4.fhirpath.FHIRPathUtilityClasses.FunctionDetails;
import org.hl7.fhir.r4.fhirpath.IHostApplicationServices;
import org.hl7.fhir.r4.fhirpath.TypeDetails;
import org.hl7.fhir.r4.hapi.ctx.HapiWorkerContext;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.ValueSet;
import org.hl7.fhir.utilities.fhirpath.FHIRPathConstantEvaluationMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates search parameter expressions with HAPI's R4 FHIRPath engine. Each expression is
 * parsed once and cached; evaluation is per resource.
 *
 * <p>Two adaptations, both as HAPI's own JPA extractor does: a top-level union
 * ({@code a | b}) is evaluated part by part, because the engine's union de-duplicates with
 * UCUM-aware equality that needs a terminology service; and {@code resolve()} answers an
 * empty resource of the referenced type, enough for {@code resolve() is Patient}. The
 * engine knows type names through a stub validation support ({@code as}/{@code is}/
 * {@code ofType} only ask whether a type exists).
 */
public final class ParamExpressions {
  private static final Logger log = LoggerFactory.getLogger(ParamExpressions.class);
  /** {@code (Type.a.b as T)} or {@code Type.a.b.as(T)}. */
  private static final Pattern CAST = Pattern.compile("\\(([A-Z]\\w*(?:\\.\\w+)+) as (\\w+)\\)|([A-Z]\\w*(?:\\.\\w+)+)\\.as\\((\\w+)\\)");

  private final FhirContext context;
  private final FHIRPathEngine engine;
  private final Map<String, List<Part>> parsed = new ConcurrentHashMap<>();

  /**
   * One top-level union part. {@code names} is set when the part is a plain path
   * {@code Type.a.b} (names only: no function, operator or index), or such a path cast to one
   * type ({@code (Type.a as T)}, {@code Type.a.as(T)}, then {@code asType} is T); it is then
   * walked directly, as the engine itself would walk it, which skips the engine's per-step type
   * checks (most search parameters are such paths; the engine was the bulk of indexing).
   * Anything else goes to the engine.
   */
  private record Part(ExpressionNode node, String[] names, String asType) {}

  public ParamExpressions(FhirModel fhir) {
    this.context = fhir.context();
    this.engine = new FHIRPathEngine(new HapiWorkerContext(context, new TypeDefinitions(context)));
    engine.setHostServices(new Host(context));
  }

  /**
   * The values of {@code expression} on {@code focus}; empty when the expression does not
   * apply or fails on this resource (a write never fails because of its index).
   */
  public List<Base> evaluate(Base focus, String expression) {
    if (expression.isEmpty()) {
      return List.of();
    }
    return evaluate(focus, expression, true);
  }

  /** {@link #evaluate(Base, String)}, every part through the engine when {@code direct} is false (tests compare). */
  List<Base> evaluate(Base focus, String expression, boolean direct) {
    if (expression.isEmpty()) {
      return List.of();
    }
    List<Part> parts = parsed.computeIfAbsent(expression, this::parse);
    if (parts.isEmpty()) {
      return List.of();
    }
    if (parts.size() == 1) {
      return evaluateOne(focus, parts.getFirst(), direct);
    }
    List<Base> out = new ArrayList<>();
    for (Part part : parts) {
      out.addAll(evaluateOne(focus, part, direct));
    }
    return out;
  }

  private List<Base> evaluateOne(Base focus, Part part, boolean direct) {
    try {
      if (direct && part.names() != null && focus.isResource() && part.names()[0].equals(focus.fhirType())) {
        List<Base> values = walk(focus, part.names());
        return part.asType() == null ? values : cast(values, part.asType());
      }
      return engine.evaluate(focus, part.node());
    } catch (FHIRException | IllegalArgumentException | ClassCastException e) {
      return List.of();
    }
  }

  /**
   * A plain path from the resource, step by step as the engine's {@code getChildrenByName}
   * does it (polymorphic names off): the children by name, nulls dropped, ids made
   * unqualified and versionless. The first name is the resource's own type, which the
   * engine answers with the resource itself.
   */
  private static List<Base> walk(Base focus, String[] names) {
    List<Base> work = List.of(focus);
    for (int i = 1; i < names.length && !work.isEmpty(); i++) {
      List<Base> next = new ArrayList<>();
      for (Base item : work) {
        Base[] children = item.listChildrenByName(names[i], false);
        if (children != null) {
          for (Base v : children) {
            if (v != null) {
              next.add(v instanceof IIdType id ? (Base) id.toUnqualifiedVersionless().withResourceType(null) : v);
            }
          }
        }
      }
      work = next;
    }
    return work;
  }

  /** The values of exactly type {@code type}, as the engine's {@code as} keeps them (no subtypes: not an Age as Quantity). */
  private static List<Base> cast(List<Base> values, String type) {
    List<Base> out = new ArrayList<>(values.size());
    for (Base v : values) {
      if (type.equals(v.fhirType())) {
        out.add(v);
      }
    }
    return out;
  }

  /** The names of a plain path {@code Type.a.b}, or null for anything else. */
  private static String[] plainPath(ExpressionNode node) {
    List<String> names = new ArrayList<>();
    for (ExpressionNode n = node; n != null; n = n.getInner()) {
      if (n.getKind() != ExpressionNode.Kind.Name || n.getFunction() != null || n.getOperation() != null
          || n.getOpNext() != null || n.getGroup() != null || n.getName() == null || n.getName().startsWith("$")) {
        return null;
      }
      names.add(n.getName());
    }
    return names.size() > 1 && Character.isUpperCase(names.getFirst().charAt(0)) ? names.toArray(String[]::new) : null;
  }

  private List<Part> parse(String expression) {
    List<Part> nodes = new ArrayList<>();
    for (String part : topLevelUnion(expression)) {
      try {
        ExpressionNode node = engine.parse(part);
        Matcher cast = CAST.matcher(part);
        if (cast.matches()) {
          String path = cast.group(1) != null ? cast.group(1) : cast.group(3);
          nodes.add(new Part(node, path.split("\\."), cast.group(1) != null ? cast.group(2) : cast.group(4)));
        } else {
          nodes.add(new Part(node, plainPath(node), null));
        }
      } catch (FHIRException e) {
        // a definition HAPI's engine cannot parse indexes nothing, like HAPI's own extractor
        log.debug("Search parameter expression part '{}' does not parse: {}", part, e.getMessage());
      }
    }
    return List.copyOf(nodes);
  }

  /**
   * The type of the resource {@code resolve()} answers for a reference to {@code url} (so
   * {@code resolve() is T} holds when it is T): the resource type the URL names, when R4 has
   * it; null otherwise ({@code urn:uuid:...}, an unknown type).
   */
  public String resolvedType(String url) {
    return resolvedType(context, url);
  }

  private static String resolvedType(FhirContext context, String url) {
    if (url == null) {
      return null;
    }
    IdType id = new IdType(url);
    return id.hasResourceType() && context.getResourceTypes().contains(id.getResourceType())
        ? id.getResourceType() : null;
  }

  /** Splits {@code a | (b | c) | d} into a, (b | c), d: only unions outside parentheses and quotes. */
  static List<String> topLevelUnion(String expression) {
    List<String> parts = new ArrayList<>();
    int depth = 0;
    boolean quoted = false;
    int start = 0;
    for (int i = 0; i < expression.length(); i++) {
      char c = expression.charAt(i);
      if (c == '\'') {
        quoted = !quoted;
      } else if (!quoted && c == '(') {
        depth++;
      } else if (!quoted && c == ')') {
        depth--;
      } else if (!quoted && depth == 0 && c == '|') {
        parts.add(expression.substring(start, i).trim());
        start = i + 1;
      }
    }
    parts.add(expression.substring(start).trim());
    return parts;
  }

  /** Host services: only {@code resolve()} does something. */
  private static final class Host implements IHostApplicationServices {
    private final FhirContext context;

    Host(FhirContext context) {
      this.context = context;
    }

    @Override
    public Base resolveReference(FHIRPathEngine e, Object appContext, String url, Identifier identifier, Base refContext) {
      String type = resolvedType(context, url);
      if (type == null) {
        return null;
      }
      Resource r = (Resource) context.getResourceDefinition(type).newInstance();
      r.setId(new IdType(url));
      return r;
    }

    @Override
    public List<Base> resolveConstant(FHIRPathEngine e, Object appContext, String name, FHIRPathConstantEvaluationMode mode) {
      return List.of();
    }

    @Override
    public TypeDetails resolveConstantType(FHIRPathEngine e, Object appContext, String name, FHIRPathConstantEvaluationMode mode) {
      return null;
    }

    @Override
    public boolean log(String argument, List<Base> focus) {
      return false;
    }

    @Override
    public FunctionDetails resolveFunction(FHIRPathEngine e, String functionName) {
      return null;
    }

    @Override
    public TypeDetails checkFunction(FHIRPathEngine e, Object appContext, String functionName, TypeDetails focus,
        List<TypeDetails> parameters) {
      return null;
    }

    @Override
    public List<Base> executeFunction(FHIRPathEngine e, Object appContext, List<Base> focus, String functionName,
        List<List<Base>> parameters) {
      return null;
    }

    @Override
    public boolean conformsToProfile(FHIRPathEngine e, Object appContext, Base item, String url) {
      return false;
    }

    @Override
    public ValueSet resolveValueSet(FHIRPathEngine e, Object appContext, String url) {
      return null;
    }

    @Override
    public boolean paramIsType(String name, int index) {
      return false;
    }
  }
}

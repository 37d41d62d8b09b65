package dev.sluice.store;

import dev.sluice.fhir.DateRange;
import dev.sluice.fhir.DecimalLimit;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.ParamKind;
import dev.sluice.fhir.SearchParam;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchText;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.Enumeration;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Money;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Timing;
import org.hl7.fhir.r4.model.UriType;

/**
 * Turns a resource into the rows of the search index: every search parameter of its type,
 * values from HAPI's FHIRPath engine, converted per parameter kind as the FHIR search page
 * describes (a CodeableConcept gives one token per coding, a HumanName one string per part,
 * a partial date its whole range, and so on). Duplicate rows are dropped. A parameter derived
 * from another ({@link SearchParam#derivedFrom()}) is not evaluated: its source's rows serve it.
 */
final class ResourceIndexer {
  private final FhirModel fhir;
  private final SearchParameters parameters;
  private final ParamExpressions expressions;
  private final OwnBases ownBases;
  private final Map<String, Plan> plans = new ConcurrentHashMap<>();

  /**
   * What indexing a type takes, worked out once per type instead of for every resource: the
   * parameters evaluated (with the hashed keys of their texts and identifier types) and the
   * derived ones, whose rows come from their sources'.
   */
  private record Plan(List<Evaluated> evaluated, List<SearchParam> derived) {}

  private record Evaluated(SearchParam param, int textKey, int ofTypeKey) {}

  ResourceIndexer(FhirModel fhir, SearchParameters parameters, ParamExpressions expressions, OwnBases ownBases) {
    this.fhir = fhir;
    this.parameters = parameters;
    this.expressions = expressions;
    this.ownBases = ownBases;
  }

  List<IndexRow> rows(String type, IBaseResource resource) {
    Base focus = (Base) resource;
    Set<IndexRow> rows = new LinkedHashSet<>();
    int grp = 0;
    Plan plan = plans.computeIfAbsent(type, this::plan);
    for (Evaluated e : plan.evaluated()) {
      SearchParam p = e.param();
      List<Base> values = expressions.evaluate(focus, p.indexed());
      if (p.kind() == ParamKind.COMPOSITE) {
        for (Base item : values) {
          List<IndexRow> parts = new ArrayList<>();
          boolean complete = true;
          grp++;
          for (SearchParam.Component c : p.components()) {
            int before = parts.size();
            for (Base v : expressions.evaluate(item, c.expression())) {
              add(parts, p, c.kind(), c.key(), 0, 0, grp, v);
            }
            complete &= parts.size() > before;
          }
          if (complete) {
            rows.addAll(parts);
          }
        }
        continue;
      }
      if (values.isEmpty()) {
        continue;
      }
      for (Base v : values) {
        add(rows, p, p.kind(), p.key(), e.textKey(), e.ofTypeKey(), 0, v);
      }
    }
    // after the loop: a derived parameter needs all of its source's rows (patient sorts before subject)
    for (SearchParam p : plan.derived()) {
      derived(rows, p);
    }
    return List.copyOf(rows);
  }

  private Plan plan(String type) {
    List<Evaluated> evaluated = new ArrayList<>();
    List<SearchParam> derived = new ArrayList<>();
    for (SearchParam p : parameters.of(type)) {
      // _id and _lastUpdated are answered from the resource table itself
      boolean noRows = p.expression().isEmpty() || p.name().equals("_id") || p.name().equals(SearchSql.LAST_UPDATED)
          || p.kind() == ParamKind.SPECIAL || p.kind() == ParamKind.COMPOSITE && p.readsPlainRows();
      if (p.derivedFrom() != null) {
        derived.add(p);
      } else if (!noRows) {
        boolean token = p.kind() == ParamKind.TOKEN;
        evaluated.add(new Evaluated(p, token ? p.textKey() : 0, token ? p.ofTypeKey() : 0));
      }
    }
    return new Plan(List.copyOf(evaluated), List.copyOf(derived));
  }


  /**
   * The rows a derived parameter still needs of its own: its source's local rows of its target
   * type are searched as its values, but a {@code url} row (another server, {@code urn:})
   * has no target type, so it is copied under this parameter's key when {@code resolve()}
   * gives the target type, which is when the expression gave this parameter that reference.
   */
  private void derived(Set<IndexRow> rows, SearchParam p) {
    SearchParam.Derived from = p.derivedFrom();
    List<IndexRow> own = new ArrayList<>();
    for (IndexRow row : rows) {
      if (row instanceof IndexRow.Ref r && r.key() == from.key() && r.url() != null
          && from.targetType().equals(expressions.resolvedType(r.url()))) {
        own.add(new IndexRow.Ref(p.key(), r.grp(), null, null, r.url()));
      }
    }
    rows.addAll(own);
  }

  /** @param p the parameter (a composite's for its components), for the message of a refused value */
  private void add(java.util.Collection<IndexRow> rows, SearchParam p, ParamKind kind, int key, int textKey,
      int ofTypeKey, int grp, Base v) {
    switch (kind) {
      case TOKEN -> token(rows, key, textKey, ofTypeKey, grp, v);
      case STRING -> string(rows, key, grp, v);
      case DATE -> date(rows, key, grp, v);
      case NUMBER -> {
        BigDecimal n = number(v);
        if (n != null) {
          rows.add(new IndexRow.Num(key, grp, kept(n, p)));
        }
      }
      case QUANTITY -> quantity(rows, p, key, grp, v);
      case REFERENCE -> reference(rows, key, grp, v);
      case URI -> {
        if (v instanceof UriType u && u.hasValue()) {
          rows.add(new IndexRow.Uri(key, grp, u.getValue()));
        }
      }
      case COMPOSITE, SPECIAL -> { }
    }
  }

  /**
   * Token rows; with a {@code textKey} (not in composites) they carry the display texts that
   * {@code :text} matches: a coding its display, an identifier its type's text. A text no
   * token row can carry is a row of its own under {@code textKey}.
   */
  private static void token(java.util.Collection<IndexRow> rows, int key, int textKey, int ofTypeKey, int grp, Base v) {
    switch (v) {
      case CodeableConcept cc -> concept(rows, key, textKey, grp, cc);
      case Coding c -> coding(rows, key, textKey, grp, c, textKey != 0 ? display(c.getDisplay()) : null);
      case Identifier id -> {
        String typeText = textKey != 0 ? display(id.getType().getText()) : null;
        if (id.hasValue() || id.hasSystem()) {
          rows.add(new IndexRow.Token(key, grp, id.getSystem(), id.getValue(), typeText));
        } else if (typeText != null) {
          rows.add(new IndexRow.Token(textKey, 0, null, null, typeText));
        }
        if (id.hasValue() && id.hasType() && ofTypeKey != 0) {
          for (Coding t : id.getType().getCoding()) {
            rows.add(new IndexRow.Token(ofTypeKey, grp, t.getSystem(), t.getCode() + "|" + id.getValue()));
          }
        }
      }
      case ContactPoint cp -> {
        if (cp.hasValue()) {
          rows.add(new IndexRow.Token(key, grp, null, cp.getValue()));
        }
      }
      case Enumeration<?> e -> {
        if (e.hasValue()) {
          rows.add(new IndexRow.Token(key, grp, e.getSystem(), e.getValueAsString()));
        }
      }
      case BooleanType b -> {
        if (b.hasValue()) {
          rows.add(new IndexRow.Token(key, grp, null, b.getValueAsString()));
        }
      }
      case PrimitiveType<?> p -> {
        if (p.hasValue()) {
          rows.add(new IndexRow.Token(key, grp, null, p.getValueAsString()));
        }
      }
      default -> { }
    }
  }

  /**
   * One row per coding. The concept's text is dropped when it is one of the codings' displays
   * (Synthea's usual case), else goes on the first coding row without a display, else on a
   * row of its own: {@code :text} asks only whether some row of the resource starts with it.
   */
  private static void concept(java.util.Collection<IndexRow> rows, int key, int textKey, int grp, CodeableConcept cc) {
    String text = textKey != 0 ? display(cc.getText()) : null;
    List<Coding> codings = cc.getCoding();
    // each display normalized once, not once per comparison
    String[] displays = new String[codings.size()];
    for (int i = 0; i < displays.length; i++) {
      displays[i] = textKey != 0 ? display(codings.get(i).getDisplay()) : null;
      if (text != null && text.equals(displays[i])) {
        text = null;
      }
    }
    for (int i = 0; i < displays.length; i++) {
      Coding c = codings.get(i);
      String display = displays[i];
      if (display == null && text != null && (c.hasCode() || c.hasSystem())) {
        display = text;
        text = null;
      }
      coding(rows, key, textKey, grp, c, display);
    }
    if (text != null) {
      rows.add(new IndexRow.Token(textKey, 0, null, null, text));
    }
  }

  private static void coding(java.util.Collection<IndexRow> rows, int key, int textKey, int grp, Coding c,
      String display) {
    if (c.hasCode() || c.hasSystem()) {
      rows.add(new IndexRow.Token(key, grp, c.getSystem(), c.getCode(), display));
    } else if (display != null) {
      rows.add(new IndexRow.Token(textKey, 0, null, null, display));
    }
  }

  /** The form {@code :text} matches in; null for no text. */
  private static String display(String s) {
    return s == null || s.isEmpty() ? null : SearchText.normalize(s);
  }

  private static void string(java.util.Collection<IndexRow> rows, int key, int grp, Base v) {
    switch (v) {
      case HumanName n -> {
        n.getGiven().forEach(g -> str(rows, key, grp, g.getValue()));
        str(rows, key, grp, n.getFamily());
        n.getPrefix().forEach(g -> str(rows, key, grp, g.getValue()));
        n.getSuffix().forEach(g -> str(rows, key, grp, g.getValue()));
        str(rows, key, grp, n.getText());
      }
      case Address a -> {
        a.getLine().forEach(l -> str(rows, key, grp, l.getValue()));
        str(rows, key, grp, a.getCity());
        str(rows, key, grp, a.getDistrict());
        str(rows, key, grp, a.getState());
        str(rows, key, grp, a.getPostalCode());
        str(rows, key, grp, a.getCountry());
        str(rows, key, grp, a.getText());
      }
      case PrimitiveType<?> p -> str(rows, key, grp, p.getValueAsString());
      default -> { }
    }
  }

  private static void str(java.util.Collection<IndexRow> rows, int key, int grp, String s) {
    if (s != null && !s.isBlank()) {
      rows.add(new IndexRow.Str(key, grp, SearchText.normalize(s), cut(s)));
    }
  }

  private static String cut(String s) {
    return s.length() > SearchText.MAX_LENGTH ? s.substring(0, SearchText.MAX_LENGTH) : s;
  }

  private static void date(java.util.Collection<IndexRow> rows, int key, int grp, Base v) {
    switch (v) {
      case BaseDateTimeType d -> {
        DateRange r = range(d);
        if (r != null) {
          rows.add(new IndexRow.Date(key, grp, r.lo(), r.hi()));
        }
      }
      case Period p -> {
        DateRange start = p.hasStart() ? range(p.getStartElement()) : null;
        DateRange end = p.hasEnd() ? range(p.getEndElement()) : null;
        if (start != null || end != null) {
          rows.add(new IndexRow.Date(key, grp, start == null ? Instant.MIN : start.lo(),
              end == null ? Instant.MAX : end.hi()));
        }
      }
      case Timing t -> {
        Instant lo = null;
        Instant hi = null;
        for (var e : t.getEvent()) {
          DateRange r = range(e);
          if (r != null) {
            lo = lo == null || r.lo().isBefore(lo) ? r.lo() : lo;
            hi = hi == null || r.hi().isAfter(hi) ? r.hi() : hi;
          }
        }
        if (lo != null) {
          rows.add(new IndexRow.Date(key, grp, lo, hi));
        }
        if (t.getRepeat().hasBoundsPeriod()) {
          date(rows, key, grp, t.getRepeat().getBoundsPeriod());
        }
      }
      default -> { }
    }
  }

  private static DateRange range(BaseDateTimeType d) {
    if (!d.hasValue()) {
      return null;
    }
    try {
      return DateRange.parse(d.getValueAsString());
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static BigDecimal number(Base v) {
    return switch (v) {
      case DecimalType d when d.hasValue() -> d.getValue();
      case IntegerType i when i.hasValue() -> BigDecimal.valueOf(i.getValue());
      default -> null;
    };
  }

  /**
   * A JSON body's decimals were checked as it was read; this catches an XML body's, which would
   * otherwise reach the index write, and the search index could not hold them.
   */
  private static BigDecimal kept(BigDecimal value, SearchParam p) {
    if (!DecimalLimit.fits(value)) {
      throw FhirException.badRequest("A value of the search parameter '" + p.name() + "' is refused: "
          + DecimalLimit.reason(value), p.name());
    }
    return value;
  }

  private static void quantity(java.util.Collection<IndexRow> rows, SearchParam p, int key, int grp, Base v) {
    switch (v) {
      case Quantity q when q.hasValue() -> rows.add(new IndexRow.Qty(key, grp, kept(q.getValue(), p), q.getSystem(),
          q.hasCode() ? q.getCode() : q.getUnit(), q.getUnit()));
      case Money m when m.hasValue() -> rows.add(new IndexRow.Qty(key, grp, kept(m.getValue(), p),
          "urn:iso:std:iso:4217", m.getCurrency(), m.getCurrency()));
      default -> { }
    }
  }

  private void reference(java.util.Collection<IndexRow> rows, int key, int grp, Base v) {
    String ref = switch (v) {
      case Reference r when r.hasReference() -> r.getReference();
      case UriType u when u.hasValue() -> u.getValue();
      default -> null;
    };
    if (ref == null || ref.startsWith("#")) {
      return;
    }
    // an absolute reference to this server's own base is the local Type/id it ends in
    IndexRow.Ref local = local(key, grp, ref.indexOf(':') < 0 ? ref : ownBases.relative(ref));
    rows.add(local != null ? local : new IndexRow.Ref(key, grp, null, null, ref));
  }

  /** {@code Type/id} or {@code Type/id/_history/n} as a row by type and id; null for anything else. */
  private IndexRow.Ref local(int key, int grp, String ref) {
    if (ref == null) {
      return null;
    }
    int slash = ref.indexOf('/');
    if (slash > 0 && !ref.contains(":")) {
      String type = ref.substring(0, slash);
      String rest = ref.substring(slash + 1);
      int history = rest.indexOf("/_history");
      String id = history < 0 ? rest : rest.substring(0, history);
      if (fhir.isResourceType(type) && FhirModel.isValidId(id)) {
        return new IndexRow.Ref(key, grp, type, id, null);
      }
    }
    return null;
  }
}

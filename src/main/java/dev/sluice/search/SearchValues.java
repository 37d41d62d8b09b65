package dev.sluice.search;

import dev.sluice.fhir.DateRange;
import dev.sluice.fhir.DecimalLimit;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamKind;
import dev.sluice.fhir.SearchParam;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/** Parses one value (between commas) of a search parameter according to its kind. */
final class SearchValues {
  private final FhirModel fhir;
  private final OwnBases ownBases;

  SearchValues(FhirModel fhir, OwnBases ownBases) {
    this.fhir = fhir;
    this.ownBases = ownBases;
  }

  /**
   * @param refType the {@code :[Type]} modifier of a reference parameter, or null
   * @param name the parameter as written, for error messages
   */
  SearchValue parse(SearchParam param, Modifier modifier, String refType, String raw, String name) {
    if (raw.isEmpty()) {
      throw FhirException.badRequest("Empty value for search parameter '" + name + "'", name);
    }
    if (param.kind() == ParamKind.COMPOSITE) {
      List<String> parts = Escaping.split(raw, '$');
      if (parts.size() != param.components().size()) {
        throw FhirException.badRequest("'" + name + "' needs " + param.components().size()
            + " values separated by '$', got '" + raw + "'", name);
      }
      List<SearchValue> values = new ArrayList<>();
      for (int i = 0; i < parts.size(); i++) {
        values.add(simple(param.components().get(i).kind(), Modifier.NONE, null, parts.get(i), name));
      }
      return new SearchValue.Composite(values);
    }
    return simple(param.kind(), modifier, refType, raw, name);
  }

  private SearchValue simple(ParamKind kind, Modifier modifier, String refType, String raw, String name) {
    return switch (kind) {
      case TOKEN -> modifier == Modifier.TEXT ? new SearchValue.Text(Escaping.unescape(raw)) : token(raw, modifier, name);
      case STRING -> new SearchValue.Text(Escaping.unescape(raw));
      case URI -> new SearchValue.Uri(Escaping.unescape(raw));
      case DATE -> date(raw, name);
      case NUMBER -> {
        Prefix prefix = Prefix.of(raw);
        yield new SearchValue.Number(prefix == null ? Prefix.EQ : prefix, decimal(prefix == null ? raw : raw.substring(2), name));
      }
      case QUANTITY -> quantity(raw, name);
      case REFERENCE -> reference(Escaping.unescape(raw), refType, name);
      case COMPOSITE, SPECIAL -> throw FhirException.notSupported("'" + name + "' cannot be searched", name);
    };
  }

  private static SearchValue token(String raw, Modifier modifier, String name) {
    List<String> parts = Escaping.split(raw, '|');
    if (modifier == Modifier.OF_TYPE) {
      if (parts.size() != 3 || parts.stream().anyMatch(String::isEmpty)) {
        throw FhirException.badRequest(name + " needs system|code|value, got '" + raw + "'", name);
      }
      return new SearchValue.Token(Escaping.unescape(parts.get(0)),
          Escaping.unescape(parts.get(1)) + "|" + Escaping.unescape(parts.get(2)), false);
    }
    if (parts.size() == 1) {
      return new SearchValue.Token(null, Escaping.unescape(raw), false);
    }
    if (parts.size() != 2) {
      throw FhirException.badRequest("A token is code, system|code, |code or system|; got '" + raw + "'", name);
    }
    String system = Escaping.unescape(parts.get(0));
    String code = Escaping.unescape(parts.get(1));
    if (system.isEmpty() && code.isEmpty()) {
      throw FhirException.badRequest("A token needs a system or a code; got '" + raw + "'", name);
    }
    return new SearchValue.Token(system.isEmpty() ? null : system, code.isEmpty() ? null : code, system.isEmpty());
  }

  private static SearchValue date(String raw, String name) {
    Prefix prefix = Prefix.of(raw);
    String text = prefix == null ? raw : raw.substring(2);
    try {
      DateRange r = DateRange.parse(text);
      return new SearchValue.Date(prefix == null ? Prefix.EQ : prefix, r.lo(), r.hi());
    } catch (IllegalArgumentException e) {
      throw FhirException.badRequest("'" + raw + "' is not a date for '" + name
          + "' (use [prefix]YYYY[-MM[-DD[Thh:mm[:ss][zone]]]], prefixes eq ne gt lt ge le sa eb ap)", name);
    }
  }

  private static BigDecimal decimal(String text, String name) {
    BigDecimal value;
    try {
      value = new BigDecimal(text.trim());
    } catch (NumberFormatException e) {
      throw FhirException.badRequest("'" + text + "' is not a number for '" + name + "'", name);
    }
    // the index holds no such value, and PostgreSQL refuses to compare with one past its numeric
    if (!DecimalLimit.fits(value)) {
      throw FhirException.badRequest("'" + text + "' is refused for '" + name + "': " + DecimalLimit.reason(value), name);
    }
    return value;
  }

  private static SearchValue quantity(String raw, String name) {
    List<String> parts = Escaping.split(raw, '|');
    if (parts.size() != 1 && parts.size() != 3) {
      throw FhirException.badRequest("A quantity is [prefix]number[|system|code]; got '" + raw + "'", name);
    }
    String number = parts.getFirst();
    Prefix prefix = Prefix.of(number);
    BigDecimal value = decimal(prefix == null ? number : number.substring(2), name);
    String system = parts.size() == 3 && !parts.get(1).isEmpty() ? Escaping.unescape(parts.get(1)) : null;
    String code = parts.size() == 3 && !parts.get(2).isEmpty() ? Escaping.unescape(parts.get(2)) : null;
    return new SearchValue.Quantity(prefix == null ? Prefix.EQ : prefix, value, system, code);
  }

  private SearchValue reference(String raw, String refType, String name) {
    String value = raw.trim();
    if (value.contains(":")) {
      // under this server's own base: the local Type/id, and the URL as written for references
      // stored under a base the index did not know (a request's Host that is not configured)
      String local = ownBases.relative(value);
      String[] parts = local == null ? null : local.split("/");
      if (parts != null && (parts.length == 2 || (parts.length == 4 && parts[2].equals("_history")))
          && fhir.isResourceType(parts[0]) && FhirModel.isValidId(parts[1])) {
        if (refType != null && !refType.equals(parts[0])) {
          throw FhirException.badRequest("'" + value + "' is not a " + refType, name);
        }
        return new SearchValue.Reference(parts[0], parts[1], value);
      }
      return new SearchValue.Reference(null, null, value);
    }
    String[] parts = value.split("/");
    if (parts.length == 1 || (parts.length == 4 && parts[2].equals("_history"))) {
      if (parts.length == 1 && FhirModel.isValidId(value)) {
        return new SearchValue.Reference(refType, value, null);
      }
    }
    if ((parts.length == 2 || (parts.length == 4 && parts[2].equals("_history")))
        && fhir.isResourceType(parts[0]) && FhirModel.isValidId(parts[1])) {
      if (refType != null && !refType.equals(parts[0])) {
        throw FhirException.badRequest("'" + value + "' is not a " + refType, name);
      }
      return new SearchValue.Reference(parts[0], parts[1], null);
    }
    throw FhirException.badRequest("'" + raw + "' is not a reference (id, Type/id or an absolute URL) for '" + name + "'", name);
  }
}

package dev.sluice.fhir;

import ca.uhn.fhir.rest.api.RestSearchParameterTypeEnum;

/** The kinds of FHIR R4 search parameters; each kind has its own index table. */
public enum ParamKind {
  TOKEN, STRING, DATE, REFERENCE, QUANTITY, NUMBER, URI, COMPOSITE, SPECIAL;

  static ParamKind of(RestSearchParameterTypeEnum type) {
    return switch (type) {
      case TOKEN -> TOKEN;
      case STRING -> STRING;
      case DATE -> DATE;
      case REFERENCE -> REFERENCE;
      case QUANTITY -> QUANTITY;
      case NUMBER -> NUMBER;
      case URI -> URI;
      case COMPOSITE -> COMPOSITE;
      case SPECIAL, HAS -> SPECIAL;
    };
  }

  /** The code CapabilityStatement.rest.resource.searchParam.type uses. */
  public String code() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}

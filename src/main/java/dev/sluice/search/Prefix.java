package dev.sluice.search;

/** The comparison prefixes of date, number and quantity values (FHIR R4 search, 3.1.1.4.1). */
public enum Prefix {
  EQ, NE, GT, LT, GE, LE, SA, EB, AP;

  /** The prefix at the start of a value, or null when it has none. */
  static Prefix of(String value) {
    if (value.length() < 2 || !Character.isLetter(value.charAt(0))) {
      return null;
    }
    return switch (value.substring(0, 2)) {
      case "eq" -> EQ;
      case "ne" -> NE;
      case "gt" -> GT;
      case "lt" -> LT;
      case "ge" -> GE;
      case "le" -> LE;
      case "sa" -> SA;
      case "eb" -> EB;
      case "ap" -> AP;
      default -> null;
    };
  }
}

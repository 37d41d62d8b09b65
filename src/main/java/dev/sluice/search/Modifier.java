package dev.sluice.search;

/** The search modifiers Sluice answers ({@code :missing} is its own criterion, {@code :[Type]} part of a reference value). */
public enum Modifier {
  NONE, EXACT, CONTAINS, NOT, TEXT, OF_TYPE, BELOW
}

package dev.sluice.store;

/**
 * The patients of one part of an organized export: ids after {@code after} up to and including
 * {@code to}, in the database's order of {@code compartment.patient_id} (never compared in
 * Java, whose order may differ from the database's collation); a null bound is open.
 */
public record PatientRange(String after, String to) {
  public static final PatientRange ALL = new PatientRange(null, null);
}

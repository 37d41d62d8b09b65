package dev.sluice.export;

/** What an export covers: the whole server, every Patient compartment, or a Group's members. */
public sealed interface ExportLevel {
  /** {@code [base]/$export} */
  record System() implements ExportLevel {}

  /** {@code [base]/Patient/$export} */
  record Patients() implements ExportLevel {}

  /** {@code [base]/Group/[id]/$export} */
  record Group(String groupId) implements ExportLevel {}

  default String code() {
    return switch (this) {
      case System s -> "system";
      case Patients p -> "patient";
      case Group g -> "group";
    };
  }
}

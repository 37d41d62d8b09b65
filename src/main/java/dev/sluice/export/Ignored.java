package dev.sluice.export;

import java.util.Objects;

/**
 * A part of a kick-off that the export went on without because the client sent
 * {@code Prefer: handling=lenient}; reported as a warning OperationOutcome in the error files.
 *
 * @param parameter the parameter
 * @param value the value left out, or null when the whole parameter was (an unknown parameter)
 * @param reason why, in words a user can act on, or null for an unknown parameter
 */
public record Ignored(String parameter, String value, String reason) {
  public Ignored {
    Objects.requireNonNull(parameter, "parameter");
  }

  /** An unknown parameter, left out whole. */
  public static Ignored parameter(String name) {
    return new Ignored(name, null, null);
  }

  /** One value of a known parameter that cannot be applied. */
  public static Ignored value(String parameter, String value, String reason) {
    return new Ignored(parameter, Objects.requireNonNull(value, "value"), Objects.requireNonNull(reason, "reason"));
  }
}

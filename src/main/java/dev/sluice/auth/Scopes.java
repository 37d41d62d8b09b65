package dev.sluice.auth;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The scopes a caller holds, as granted in its token. Only {@code system/} scopes grant access
 * (SMART Backend Services has no user or patient context); other scopes are kept as text.
 *
 * @param granted every scope, as written
 * @param clinical the parsed clinical scopes among them
 */
public record Scopes(List<String> granted, List<Scope> clinical) {
  /** What {@code --auth none} allows: everything. */
  public static final Scopes ALL = parse("system/*.cruds");

  public Scopes {
    granted = List.copyOf(granted);
    clinical = List.copyOf(clinical);
  }

  /** The scopes of a space-separated {@code scope} claim or parameter (null or blank: none). */
  public static Scopes parse(String spaceSeparated) {
    List<String> granted = spaceSeparated == null || spaceSeparated.isBlank() ? List.of()
        : Arrays.stream(spaceSeparated.trim().split("\\s+")).distinct().toList();
    return of(granted);
  }

  public static Scopes of(List<String> scopes) {
    List<Scope> clinical = new ArrayList<>();
    for (String s : scopes) {
      Scope.parse(s).ifPresent(clinical::add);
    }
    return new Scopes(scopes, clinical);
  }

  /**
   * The asked scopes that one of these (the registered ones) covers, in the order asked: the
   * scope a token is granted.
   */
  public Scopes grant(Scopes asked) {
    List<String> granted = new ArrayList<>();
    for (String text : asked.granted) {
      Optional<Scope> scope = Scope.parse(text);
      boolean covered = scope.isPresent()
          ? clinical.stream().anyMatch(r -> r.covers(scope.get()))
          : this.granted.contains(text);
      if (covered) {
        granted.add(text);
      }
    }
    return of(granted);
  }

  /** Whether some system scope without a constraint allows the interaction on the type. */
  public boolean allowsWhole(Interaction interaction, String type) {
    return clinical.stream().anyMatch(s -> s.context().equals("system") && s.constraint() == null
        && s.appliesTo(type) && s.permissions().containsAll(interaction.needs()));
  }

  /**
   * The search constraints of the system scopes that allow the interaction on the type only in
   * part (empty when none does, or when one allows it whole).
   */
  public List<String> constraints(Interaction interaction, String type) {
    if (allowsWhole(interaction, type)) {
      return List.of();
    }
    return clinical.stream().filter(s -> s.context().equals("system") && s.constraint() != null
        && s.appliesTo(type) && s.permissions().containsAll(interaction.needs()))
        .map(Scope::constraint).distinct().toList();
  }

  public boolean isEmpty() {
    return granted.isEmpty();
  }

  /** The scopes as a {@code scope} parameter or claim. */
  public String text() {
    return String.join(" ", granted);
  }
}

package dev.sluice.auth;

import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SMART clinical scope, v1 ({@code system/Observation.read}) or v2
 * ({@code system/Observation.rs}, {@code system/Observation.rs?category=laboratory}).
 *
 * @param context {@code system}, {@code user} or {@code patient}
 * @param type a resource type, or {@code *} for all
 * @param permissions what it allows on the type
 * @param constraint a v2 search constraint (the query after {@code ?}), or null
 * @param text the scope as written
 */
public record Scope(String context, String type, Set<Permission> permissions, String constraint, String text) {
  private static final Pattern SHAPE =
      Pattern.compile("(system|user|patient)/(\\*|[A-Z][A-Za-z]*)\\.(read|write|\\*|c?r?u?d?s?)(\\?(.+))?");

  public Scope {
    Objects.requireNonNull(context, "context");
    Objects.requireNonNull(type, "type");
    permissions = Set.copyOf(permissions);
    Objects.requireNonNull(text, "text");
  }

  /** The clinical scope this text names, or empty for any other scope ({@code openid}, {@code launch}, ...). */
  public static Optional<Scope> parse(String text) {
    Matcher m = SHAPE.matcher(text);
    if (!m.matches() || m.group(3).isEmpty()) {
      return Optional.empty();
    }
    String action = m.group(3);
    Set<Permission> permissions = switch (action) {
      case "read" -> EnumSet.of(Permission.READ, Permission.SEARCH);
      case "write" -> EnumSet.of(Permission.CREATE, Permission.UPDATE, Permission.DELETE);
      case "*" -> EnumSet.allOf(Permission.class);
      default -> letters(action);
    };
    boolean v1 = action.equals("read") || action.equals("write") || action.equals("*");
    if (v1 && m.group(5) != null) {
      // constraints exist only in v2; a v1 scope with one is not a scope we understand
      return Optional.empty();
    }
    return Optional.of(new Scope(m.group(1), m.group(2), permissions, m.group(5), text));
  }

  private static Set<Permission> letters(String action) {
    Set<Permission> set = EnumSet.noneOf(Permission.class);
    for (char c : action.toCharArray()) {
      for (Permission p : Permission.values()) {
        if (p.letter() == c) {
          set.add(p);
        }
      }
    }
    return set;
  }

  /** Whether this scope speaks about the type (the type itself, or {@code *}). */
  public boolean appliesTo(String resourceType) {
    return type.equals("*") || type.equals(resourceType);
  }

  /**
   * Whether everything {@code asked} allows, this scope allows too: the basis of "granted =
   * asked ∩ registered".
   */
  public boolean covers(Scope asked) {
    return context.equals(asked.context)
        && (type.equals("*") || type.equals(asked.type))
        && permissions.containsAll(asked.permissions)
        && (constraint == null || constraint.equals(asked.constraint));
  }

}

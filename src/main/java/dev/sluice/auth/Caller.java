package dev.sluice.auth;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.Issue;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Who sent a request, as the authorization filter established it: passed explicitly to the
 * routes and jobs that need it (never kept in a thread-local).
 *
 * @param clientId the token's client (its {@code client_id} or {@code sub}); under
 *     {@code --auth none} a stand-in made from the request (see {@link #anonymous})
 * @param scopes the scopes granted to the token
 * @param authenticated false under {@code --auth none}, where jobs are not kept apart
 */
public record Caller(String clientId, Scopes scopes, boolean authenticated) {
  public Caller {
    Objects.requireNonNull(clientId, "clientId");
    Objects.requireNonNull(scopes, "scopes");
  }

  /** A caller who proved who it is with a token. */
  public static Caller of(String clientId, Scopes scopes) {
    return new Caller(clientId, scopes, true);
  }

  /** Under {@code --auth none}: allowed everything; the id only tells one client's identical kick-offs from another's. */
  public static Caller anonymous(String standInId) {
    return new Caller(standInId, Scopes.ALL, false);
  }

  /**
   * The one place that decides whether this caller may do an interaction on a resource type.
   * Export never goes through a search-constrained scope: it is all of a type or nothing.
   */
  public Access access(Interaction interaction, String type) {
    if (scopes.allowsWhole(interaction, type)) {
      return new Access.Whole();
    }
    List<String> constraints = scopes.constraints(interaction, type);
    if (!constraints.isEmpty() && interaction != Interaction.EXPORT) {
      return new Access.Narrowed(constraints);
    }
    return new Access.Denied("The token's scopes (" + (scopes.isEmpty() ? "none" : scopes.text())
        + ") do not allow " + interaction.name().toLowerCase(Locale.ROOT) + " on " + type
        + (constraints.isEmpty() ? "" : " (a search-constrained scope never allows $export)"));
  }

  /** Whether the caller may do the interaction on every resource of the type. */
  public boolean mayWhole(Interaction interaction, String type) {
    return access(interaction, type) instanceof Access.Whole;
  }

  /**
   * The access, or a 403 when there is none.
   *
   * @throws FhirException 403 naming the scopes and what they lack
   */
  public Access require(Interaction interaction, String type) {
    Access access = access(interaction, type);
    if (access instanceof Access.Denied denied) {
      throw forbidden(denied.reason());
    }
    return access;
  }

  /** As {@link #require}, when a part of the type is not enough. */
  public void requireWhole(Interaction interaction, String type) {
    Access access = require(interaction, type);
    if (access instanceof Access.Narrowed) {
      throw forbidden("The token allows " + interaction.name().toLowerCase(Locale.ROOT) + " on " + type
          + " only within search constraints, which this request cannot apply");
    }
  }

  /**
   * Whether a job or file that {@code owner} started is this caller's: always under
   * {@code --auth none}, else only the same client's.
   */
  public boolean owns(String owner) {
    return !authenticated || clientId.equals(owner);
  }

  /** The owner whose jobs this caller may list: every job's under {@code --auth none} (empty), else its own. */
  public java.util.Optional<String> ownerFilter() {
    return authenticated ? java.util.Optional.of(clientId) : java.util.Optional.empty();
  }

  public static FhirException forbidden(String diagnostics) {
    return new FhirException(403, Issue.error(Issue.Code.FORBIDDEN, diagnostics));
  }
}

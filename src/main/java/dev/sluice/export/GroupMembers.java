package dev.sluice.export;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.OwnBases;
import dev.sluice.store.ExportScan;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Group.GroupMemberComponent;
import org.hl7.fhir.r4.model.Period;

/**
 * The patients of a Group at a point in time: its Patient members, and those of the Groups
 * it names as members (followed once each, so cycles end). A member marked inactive, or
 * whose period does not cover the time, is left out. Characteristics are not evaluated.
 * Only references to this server are followed: relative ones ({@code Patient/123}) and
 * absolute ones under one of its bases ({@link OwnBases}, and the base the export was asked
 * under); any other ({@code http://other.example/fhir/Patient/123}, {@code urn:uuid:...}, a
 * contained {@code #p1}) names a resource elsewhere, and is reported, never read as local.
 */
public final class GroupMembers {
  /** How deep Groups nested in Groups are followed (the exported Group is at depth 0). */
  static final int MAX_NESTING = 16;
  /** How many Groups are followed in all, against pathological fan-out. */
  static final int MAX_GROUPS = 10_000;
  private static final Pattern LOCAL = Pattern.compile("([A-Z][A-Za-z]+)/([A-Za-z0-9\\-.]{1,64})(/_history/[^/]+)?");

  private final FhirModel fhir;
  private final ExportScan scan;
  private final OwnBases ownBases;

  public GroupMembers(FhirModel fhir, ExportScan scan, OwnBases ownBases) {
    this.fhir = fhir;
    this.scan = scan;
    this.ownBases = ownBases;
  }

  /**
   * A Group's member patients, and the members it names that are not on this server.
   *
   * @param elsewhere {@code Group/<id>: <reference>} of each member that is not on this server
   */
  record Members(Set<String> patients, List<String> elsewhere) {}

  private record Nested(String id, int depth) {}

  /**
   * @param base the base URL the export was asked under (its references are local too), or null
   * @throws FhirException 404 when the Group did not exist at {@code at}; 422 when Groups nest
   *     deeper than {@link #MAX_NESTING} or more than {@link #MAX_GROUPS} are named
   */
  Members of(String groupId, Instant at, String base) throws SQLException {
    OwnBases local = base == null ? ownBases : ownBases.with(base);
    Set<String> patients = new TreeSet<>();
    List<String> elsewhere = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    Deque<Nested> todo = new ArrayDeque<>();
    todo.add(new Nested(groupId, 0));
    seen.add(groupId);
    while (!todo.isEmpty()) {
      Nested next = todo.poll();
      byte[] content = scan.readAt("Group", next.id(), at).orElse(null);
      if (content == null) {
        if (next.id().equals(groupId)) {
          throw FhirException.notFound("Group/" + groupId + " did not exist at the export's transactionTime " + at);
        }
        continue; // a nested Group that does not exist has no members
      }
      Group group = (Group) fhir.parse(content, Format.JSON);
      for (GroupMemberComponent m : group.getMember()) {
        if (m.getInactive() || !covers(m.getPeriod(), at) || !m.getEntity().hasReference()) {
          continue;
        }
        String reference = m.getEntity().getReference();
        String relative = reference.contains("://") ? local.relative(reference) : reference;
        Matcher ref = relative == null ? null : LOCAL.matcher(relative);
        if (ref == null || !ref.matches()) {
          elsewhere.add("Group/" + next.id() + ": " + reference);
          continue;
        }
        String type = ref.group(1);
        String target = ref.group(2);
        if (type.equals("Patient")) {
          patients.add(target);
        } else if (type.equals("Group") && seen.add(target)) {
          if (next.depth() + 1 > MAX_NESTING) {
            throw tooDeep("Group/" + groupId + " nests Groups deeper than " + MAX_NESTING + " levels (Group/"
                + next.id() + " names Group/" + target + "); the export follows at most " + MAX_NESTING);
          }
          if (seen.size() > MAX_GROUPS) {
            throw tooDeep("Group/" + groupId + " names more than " + MAX_GROUPS
                + " Groups through its nested Groups; the export follows at most " + MAX_GROUPS);
          }
          todo.add(new Nested(target, next.depth() + 1));
        }
      }
    }
    return new Members(patients, elsewhere);
  }

  private static FhirException tooDeep(String diagnostics) {
    return new FhirException(422, Issue.error(Issue.Code.TOO_COSTLY, diagnostics)
        .withMessage(MessageCode.EXPORT_GROUP_TOO_DEEP));
  }

  private static boolean covers(Period period, Instant at) {
    if (period == null || period.isEmpty()) {
      return true;
    }
    if (period.hasStart() && period.getStart().toInstant().isAfter(at)) {
      return false;
    }
    return !period.hasEnd() || !period.getEnd().toInstant().isBefore(at);
  }
}

package dev.sluice.export;

import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.store.ExportScan;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.Group;
import org.hl7.fhir.r4.model.Group.GroupMemberComponent;
import org.hl7.fhir.r4.model.Period;

/**
 * The patients of a Group at a point in time: its Patient members, and those of the Groups
 * it names as members (followed once each, so cycles end). A member marked inactive, or
 * whose period does not cover the time, is left out. Characteristics are not evaluated.
 */
public final class GroupMembers {
  /** A bound on nested Groups followed, against pathological nesting. */
  static final int MAX_GROUPS = 10_000;

  private final FhirModel fhir;
  private final ExportScan scan;

  public GroupMembers(FhirModel fhir, ExportScan scan) {
    this.fhir = fhir;
    this.scan = scan;
  }

  /**
   * @throws FhirException 404 when the Group did not exist at {@code at}
   */
  Set<String> patients(String groupId, Instant at) throws SQLException {
    Set<String> patients = new TreeSet<>();
    Set<String> seen = new HashSet<>();
    Deque<String> todo = new ArrayDeque<>();
    todo.add(groupId);
    seen.add(groupId);
    while (!todo.isEmpty()) {
      String id = todo.poll();
      byte[] content = scan.readAt("Group", id, at).orElse(null);
      if (content == null) {
        if (id.equals(groupId)) {
          throw FhirException.notFound("Group/" + groupId + " did not exist at the export's transactionTime " + at);
        }
        continue; // a nested Group that does not exist has no members
      }
      Group group = (Group) fhir.parse(content, Format.JSON);
      for (GroupMemberComponent m : group.getMember()) {
        if (m.getInactive() || !covers(m.getPeriod(), at) || !m.getEntity().hasReference()) {
          continue;
        }
        String[] ref = m.getEntity().getReference().replaceAll("/_history/.*$", "").split("/");
        if (ref.length < 2) {
          continue;
        }
        String type = ref[ref.length - 2];
        String target = ref[ref.length - 1];
        if (type.equals("Patient")) {
          patients.add(target);
        } else if (type.equals("Group") && seen.size() < MAX_GROUPS && seen.add(target)) {
          todo.add(target);
        }
      }
    }
    return patients;
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

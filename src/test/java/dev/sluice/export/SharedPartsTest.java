package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.ExportPartTable.NewPart;
import dev.sluice.store.ExportScan.TypeStats;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How a Group's types are packed into shared parts. */
class SharedPartsTest {
  /** The bench's Group of 10 (bench/levels.sh, medium x10): 2,541 rows over 15 types. */
  private static final List<TypeStats> GROUP_OF_10 = List.of(stats("Observation", 1224), stats("Claim", 318),
      stats("Encounter", 237), stats("ExplanationOfBenefit", 237), stats("Procedure", 153),
      stats("Immunization", 109), stats("DiagnosticReport", 81), stats("MedicationRequest", 81),
      stats("Condition", 62), stats("CarePlan", 18), stats("Patient", 10), stats("Goal", 5),
      stats("AllergyIntolerance", 3), stats("ImagingStudy", 1), stats("Group", 1));

  @Test
  void a_selection_of_fewer_rows_than_a_shared_part_holds_at_least_is_one_part_whatever_the_workers() {
    SharedParts packed = SharedParts.of(GROUP_OF_10, 100_000, 2);
    assertThat(packed.own()).isEmpty();
    assertThat(packed.shared()).hasSize(1);
    assertThat(packed.shared().getFirst().sharedTypes()).hasSize(GROUP_OF_10.size());
  }

  @Test
  void a_larger_selection_is_still_shared_out_among_the_workers() {
    List<TypeStats> large = GROUP_OF_10.stream().map(t -> stats(t.type(), t.count() * 10)).toList();
    SharedParts packed = SharedParts.of(large, 100_000, 2);
    assertThat(packed.shared().size() + packed.own().size()).isGreaterThanOrEqualTo(2);
    assertThat(packed.shared().stream().mapToInt(p -> p.sharedTypes().size()).sum() + packed.own().size())
        .isEqualTo(large.size());
  }

  @Test
  void the_part_size_still_bounds_a_shared_part() {
    SharedParts packed = SharedParts.of(GROUP_OF_10, 300, 2);
    assertThat(packed.own()).extracting(TypeStats::type).contains("Observation", "Claim");
    for (NewPart p : packed.shared()) {
      long rows = GROUP_OF_10.stream().filter(t -> p.sharedTypes().contains(t.type())).mapToLong(TypeStats::count).sum();
      assertThat(rows).isLessThanOrEqualTo(300);
    }
  }

  private static TypeStats stats(String type, long count) {
    return new TypeStats(type, count, 1, 318_782);
  }
}

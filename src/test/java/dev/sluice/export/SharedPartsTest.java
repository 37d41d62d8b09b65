package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.ExportPartTable.NewPart;
import dev.sluice.store.ExportScan.TypeStats;
import dev.sluice.store.TypeSizes;
import java.util.Map;
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
    SharedParts packed = SharedParts.of(GROUP_OF_10, TypeSizes.unknown(), 100_000, 2);
    assertThat(packed.own()).isEmpty();
    assertThat(packed.shared()).hasSize(1);
    assertThat(packed.shared().getFirst().sharedTypes()).hasSize(GROUP_OF_10.size());
  }

  @Test
  void a_larger_selection_is_still_shared_out_among_the_workers() {
    List<TypeStats> large = GROUP_OF_10.stream().map(t -> stats(t.type(), t.count() * 10)).toList();
    SharedParts packed = SharedParts.of(large, TypeSizes.unknown(), 100_000, 2);
    assertThat(packed.shared().size() + packed.own().size()).isGreaterThanOrEqualTo(2);
    assertThat(packed.shared().stream().mapToInt(p -> p.sharedTypes().size()).sum() + packed.own().size())
        .isEqualTo(large.size());
  }

  @Test
  void the_part_size_still_bounds_a_shared_part() {
    SharedParts packed = SharedParts.of(GROUP_OF_10, TypeSizes.unknown(), 300, 2);
    assertThat(packed.own()).extracting(TypeStats::type).contains("Observation", "Claim");
    for (NewPart p : packed.shared()) {
      long rows = GROUP_OF_10.stream().filter(t -> p.sharedTypes().contains(t.type())).mapToLong(TypeStats::count).sum();
      assertThat(rows).isLessThanOrEqualTo(300);
    }
  }

  /** About the bench's Group of 100 (bench/levels.sh, medium x10): a tenth of each type's rows. */
  private static final List<TypeStats> GROUP_OF_100 = List.of(stats("Observation", 14_632), stats("Claim", 3_908),
      stats("Encounter", 3_091), stats("ExplanationOfBenefit", 3_091), stats("Procedure", 2_440),
      stats("Immunization", 1_204), stats("DiagnosticReport", 1_040), stats("MedicationRequest", 817),
      stats("Condition", 800), stats("CarePlan", 296), stats("Goal", 203), stats("Patient", 100),
      stats("ImagingStudy", 65), stats("AllergyIntolerance", 63), stats("Group", 1));

  /** Mean bytes per type of medium's NDJSON files (what the store holds is about as large). */
  private static final TypeSizes SYNTHEA = new TypeSizes(Map.ofEntries(Map.entry("ExplanationOfBenefit", 5_537L),
      Map.entry("Patient", 3_342L), Map.entry("DiagnosticReport", 1_553L), Map.entry("Claim", 1_509L),
      Map.entry("CarePlan", 1_364L), Map.entry("ImagingStudy", 1_055L), Map.entry("Observation", 834L),
      Map.entry("MedicationRequest", 820L), Map.entry("Condition", 805L), Map.entry("Encounter", 794L),
      Map.entry("Procedure", 745L), Map.entry("AllergyIntolerance", 735L), Map.entry("Immunization", 577L),
      Map.entry("Goal", 466L)));

  @Test
  void the_workers_get_about_the_same_bytes_not_the_same_rows() {
    SharedParts packed = SharedParts.of(GROUP_OF_100, SYNTHEA, 100_000, 2);
    List<Long> bytes = partBytes(packed, GROUP_OF_100, SYNTHEA);
    long total = bytes.stream().mapToLong(Long::longValue).sum();
    // the two largest parts, one per worker, within a tenth of half the bytes each
    assertThat(bytes.get(0)).isBetween(total * 45 / 100, total * 55 / 100);
    assertThat(bytes.get(1)).isBetween(total * 40 / 100, total * 55 / 100);

    // cut by rows, one worker got more than twice the other's bytes (58 and 103 ms in the bench)
    List<Long> byRows = partBytes(SharedParts.of(GROUP_OF_100, TypeSizes.unknown(), 100_000, 2), GROUP_OF_100, SYNTHEA);
    assertThat(byRows.get(0)).isGreaterThan(byRows.get(1) * 2);
  }

  @Test
  void a_type_not_sampled_weighs_as_the_mean_of_those_that_were() {
    assertThat(SYNTHEA.bytes("Group", 3)).isEqualTo(3 * Math.round(SYNTHEA.meanBytes().values().stream()
        .mapToLong(Long::longValue).average().orElseThrow()));
    assertThat(TypeSizes.unknown().bytes("Observation", 7)).isEqualTo(7);
  }

  /** Each part's estimated bytes, the largest first. */
  private static List<Long> partBytes(SharedParts packed, List<TypeStats> types, TypeSizes sizes) {
    List<Long> bytes = new java.util.ArrayList<>();
    for (NewPart p : packed.shared()) {
      bytes.add(types.stream().filter(t -> p.sharedTypes().contains(t.type()))
          .mapToLong(t -> sizes.bytes(t.type(), t.count())).sum());
    }
    for (TypeStats t : packed.own()) {
      bytes.add(sizes.bytes(t.type(), t.count()));
    }
    bytes.sort(java.util.Comparator.reverseOrder());
    return bytes;
  }

  private static TypeStats stats(String type, long count) {
    return new TypeStats(type, count, 1, 318_782);
  }
}

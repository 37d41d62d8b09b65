package dev.sluice.export;

import dev.sluice.store.ExportPartTable.NewPart;
import dev.sluice.store.ExportScan.TypeStats;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The small types of an export of some patients, packed into shared parts. Each part has a
 * fixed cost (claim, session, files, lease, finish) that a Group's few rows of a type do not
 * pay back, so the types below {@code capacity} rows share parts of at most {@code capacity}
 * rows, first fit by decreasing size; the others keep parts of their own ({@link #own}).
 * The capacity is the selection's rows over the workers (at most the part size), so the
 * shared parts still keep every worker busy, but never below {@link #FEWEST_ROWS}: a smaller
 * selection is one part. Two parts of a Group of 10 (2,541 rows, medium x10) ran at once on two
 * cores, each with its PostgreSQL backend, so neither ran at full speed, and each paid the claim,
 * file rows, snapshot, replaced-versions query and finish (the second finish waiting for the
 * first's lock on the job row); as one part the job took less time (bench/README.md, "Export
 * levels").
 *
 * @param shared the shared parts, each of two types or more
 * @param own the types left to be cut into parts of their own
 */
record SharedParts(List<NewPart> shared, List<TypeStats> own) {
  /** The fewest rows a shared part is given when the selection has that many (twice the bench's Group of 10). */
  static final long FEWEST_ROWS = 5_000;

  static SharedParts of(List<TypeStats> types, long partResources, int workers) {
    long rows = types.stream().mapToLong(TypeStats::count).sum();
    long capacity = Math.max(1, Math.min(partResources, Math.max(FEWEST_ROWS, (rows + workers - 1) / workers)));
    List<TypeStats> small = new ArrayList<>();
    List<TypeStats> own = new ArrayList<>();
    for (TypeStats t : types) {
      (t.count() < capacity ? small : own).add(t);
    }
    small.sort(Comparator.comparingLong(TypeStats::count).reversed().thenComparing(TypeStats::type));
    List<List<TypeStats>> bins = new ArrayList<>();
    List<Long> filled = new ArrayList<>();
    for (TypeStats t : small) {
      int bin = 0;
      while (bin < bins.size() && filled.get(bin) + t.count() > capacity) {
        bin++;
      }
      if (bin == bins.size()) {
        bins.add(new ArrayList<>());
        filled.add(0L);
      }
      bins.get(bin).add(t);
      filled.set(bin, filled.get(bin) + t.count());
    }
    List<NewPart> shared = new ArrayList<>();
    for (List<TypeStats> bin : bins) {
      if (bin.size() == 1) {
        // alone in its bin: an ordinary part
        own.add(bin.getFirst());
        continue;
      }
      List<String> names = bin.stream().map(TypeStats::type).sorted().toList();
      long from = bin.stream().mapToLong(TypeStats::minPk).min().orElseThrow();
      long to = bin.stream().mapToLong(TypeStats::maxPk).max().orElseThrow();
      shared.add(NewPart.sharedResources(names, from, to));
    }
    own.sort(Comparator.comparing(TypeStats::type));
    return new SharedParts(shared, own);
  }
}

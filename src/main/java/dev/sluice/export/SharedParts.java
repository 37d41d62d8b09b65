package dev.sluice.export;

import dev.sluice.store.ExportPartTable.NewPart;
import dev.sluice.store.ExportScan.TypeStats;
import dev.sluice.store.TypeSizes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The small types of an export of some patients, packed into shared parts. Each part has a
 * fixed cost (claim, session, files, lease, finish) that a Group's few rows of a type do not
 * pay back, so the types below a worker's share share parts, first fit by decreasing size; the
 * others keep parts of their own ({@link #own}). Sizes are estimated bytes ({@link TypeSizes}),
 * not rows: a part's read costs about 1.2 us a row and 2.8 ms a MB (two parts of a Group of 100,
 * 16,681 and 16,766 rows of 13.8 and 30.0 MB, took 58 and 103 ms), so parts cut by rows left one
 * worker with twice the other's bytes. A worker's share is the selection's bytes over the
 * workers, so the shared parts still keep every worker busy, but never below the bytes of
 * {@link #FEWEST_ROWS} rows: a smaller selection is one part; and no part holds more rows than
 * the part size. Two parts of a Group of 10 (2,541 rows, medium x10) ran at once on two cores,
 * each with its PostgreSQL backend, so neither ran at full speed, and each paid the claim, file
 * rows, snapshot, replaced-versions query and finish (the second finish waiting for the first's
 * lock on the job row); as one part the job took less time (bench/README.md, "Export levels").
 *
 * @param shared the shared parts, each of two types or more
 * @param own the types left to be cut into parts of their own
 */
record SharedParts(List<NewPart> shared, List<TypeStats> own) {
  /** The fewest rows a shared part is given when the selection has that many (twice the bench's Group of 10). */
  static final long FEWEST_ROWS = 5_000;

  static SharedParts of(List<TypeStats> types, TypeSizes sizes, long partResources, int workers) {
    long rows = types.stream().mapToLong(TypeStats::count).sum();
    long bytes = types.stream().mapToLong(t -> sizes.bytes(t.type(), t.count())).sum();
    long share = Math.max(1, Math.max(ceilDiv(bytes, workers), rows == 0 ? 0 : ceilDiv(bytes * FEWEST_ROWS, rows)));
    long rowCap = Math.max(1, partResources);
    List<TypeStats> small = new ArrayList<>();
    List<TypeStats> own = new ArrayList<>();
    for (TypeStats t : types) {
      (sizes.bytes(t.type(), t.count()) < share && t.count() < rowCap ? small : own).add(t);
    }
    small.sort(Comparator.comparingLong((TypeStats t) -> sizes.bytes(t.type(), t.count())).reversed()
        .thenComparing(TypeStats::type));
    List<List<TypeStats>> bins = new ArrayList<>();
    List<long[]> filled = new ArrayList<>();
    for (TypeStats t : small) {
      long b = sizes.bytes(t.type(), t.count());
      int bin = 0;
      while (bin < bins.size() && (filled.get(bin)[0] + b > share || filled.get(bin)[1] + t.count() > rowCap)) {
        bin++;
      }
      if (bin == bins.size()) {
        bins.add(new ArrayList<>());
        filled.add(new long[2]);
      }
      bins.get(bin).add(t);
      filled.get(bin)[0] += b;
      filled.get(bin)[1] += t.count();
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

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}

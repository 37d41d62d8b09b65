package dev.sluice.store;

import java.util.List;
import java.util.UUID;

/**
 * The tables a batch of versions is written to: the live ones every reader sees, or the staging
 * tables of one InitialLoad job (same columns; of the live tables' secondary indexes only the
 * lookups by resource), which its merge moves into the live ones in one transaction. The names
 * are ours, never input.
 *
 * @param prefix put before every live table's name ("" for the live tables)
 */
public record WriteTables(String prefix) {
  /** The tables readers see. */
  public static final WriteTables LIVE = new WriteTables("");

  /** The live tables a job's staging mirrors, parents before children. */
  static final List<String> STAGED = List.of("resource", "resource_version", "compartment", "idx_token", "idx_string",
      "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri");

  /** The staging tables of one job (at most 62 characters: PostgreSQL's names stop at 63). */
  public static WriteTables stage(UUID job) {
    return new WriteTables("import_stage_" + job.toString().replace("-", "") + "_");
  }

  /** The table of this set that stands for {@code live}. */
  String table(String live) {
    return prefix + live;
  }

  /** This set's tables as an SQL array of regclass, for catalog queries ({@code ... = any(...)}); names are ours. */
  String regclasses() {
    return "array[" + String.join(", ", STAGED.stream().map(t -> "'" + table(t) + "'::regclass").toList()) + "]";
  }

  boolean isLive() {
    return prefix.isEmpty();
  }
}

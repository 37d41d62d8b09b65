package dev.sluice.store;

import dev.sluice.fhir.SearchParam;
import dev.sluice.search.SearchQuery;
import dev.sluice.store.ExportScan.Membership;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * What a part of kind {@code provenance} reads: the Provenance of one pk range that
 * {@code includeAssociatedData=LatestProvenanceResources} or {@code RelevantProvenanceResources}
 * adds to an export.
 *
 * <p>Design note, the Bulk Data guide's reading (STU2/STU3 code system
 * {@code include-associated-data}; STU4 says the same more precisely): "Relevant" is every
 * Provenance whose {@code target} references a non-Provenance resource the export writes;
 * "Latest" is, for each such resource, the most recent of those Provenance. Sluice reads it so:
 * <ul>
 *   <li>"the resources the export writes" are the current files' resources: the versions current
 *       at transactionTime of the exported types that the level (compartments, Group members),
 *       {@code _since} and {@code _typeFilter} keep. A Provenance follows them whatever its own
 *       {@code lastUpdated}: with {@code _since} the Provenance of a changed resource comes
 *       again with it. Earlier versions and deleted resources ({@code _history}, {@code _deleted})
 *       draw no Provenance.</li>
 *   <li>"most recent" is the latest {@code meta.lastUpdated} of the Provenance's version at
 *       transactionTime (ties: the later pk), the server's own clock: {@code recorded} is the
 *       client's claim and may be anything.</li>
 *   <li>A Provenance is a version current at transactionTime, not deleted, written once: into
 *       {@code Provenance-<n>} files, and not again when the export holds it already because
 *       Provenance is one of its types (STU4: "does not exclude Provenance resources that would
 *       otherwise be returned").</li>
 *   <li>Targets are matched by type and id, a version in the reference ignored, through the
 *       search index's rows of {@code Provenance.target} (no Provenance is parsed).</li>
 * </ul>
 * The index and {@code compartment} hold current versions: the Provenance and targets not
 * changed since transactionTime are judged by them (one COPY, bytes as stored); a Provenance
 * replaced since, or one with a target changed since, is judged from the versions at T
 * ({@link ProvenanceChanges}), in the same snapshot. "Latest" still compares with the other
 * Provenance of a target as the index holds them now: one written or changed after T does not
 * count, and one changed after T is not seen as it was.
 *
 * @param types the exported types with their {@code _typeFilter} searches (OR'ed; empty: the
 *     whole type); Provenance among them when the export holds it as a type
 * @param target the {@code target} search parameter of Provenance
 */
public record ProvenanceScan(UUID jobId, long pkFrom, long pkTo, Instant at, Instant since, boolean latestOnly,
    Membership membership, Map<String, List<SearchQuery>> types, SearchParam target) {
  public ProvenanceScan {
    types = Map.copyOf(types);
  }

  /** The COPY of the part, in pk order; every value in it is typed by this server (see {@link CopyLiteral}). */
  String sql(SearchSql searchSql) {
    return "select p.content from resource_version p where " + atT() + " and " + judgedByIndex(searchSql)
        + " order by p.pk";
  }

  /**
   * The versions at T that {@link #sql} cannot judge, to be judged from their content: those
   * replaced since T, and the current ones it left out that reference a target changed since T.
   */
  String changedSql(SearchSql searchSql) {
    return "select p.pk, p.last_updated, p.content from resource_version p where " + atT()
        + " and (p.valid_to is not null or (not (" + judgedByIndex(searchSql) + ") and exists (select 1 from"
        + " idx_reference r join resource x on x.res_type = r.target_type and x.res_id = r.target_id where r.res_pk ="
        + " p.pk and " + keys("r") + " and x.last_updated > " + CopyLiteral.of(at) + "))) order by p.pk";
  }

  /** The exported types a Provenance's target may name (the guide: non-Provenance resources). */
  List<String> targetTypes() {
    return types.keySet().stream().filter(t -> !t.equals("Provenance")).sorted().toList();
  }

  private String atT() {
    return "p.res_type = 'Provenance' and p.pk between " + pkFrom + " and " + pkTo + " and p.last_updated <= "
        + CopyLiteral.of(at) + " and (p.valid_to is null or p.valid_to > " + CopyLiteral.of(at) + ") and not p.deleted";
  }

  /** A Provenance unchanged since T, with a target unchanged since T, that the part writes. */
  private String judgedByIndex(SearchSql searchSql) {
    StringBuilder q = new StringBuilder("p.valid_to is null");
    if (types.containsKey("Provenance")) {
      // written by the parts of the type Provenance
      q.append(" and not (").append(exported("p", List.of("Provenance"), searchSql)).append(')');
    }
    List<String> targets = targetTypes();
    if (targets.isEmpty()) {
      return q.append(" and false").toString();
    }
    q.append(" and exists (select 1 from idx_reference r join resource x on x.res_type = r.target_type")
        .append(" and x.res_id = r.target_id where r.res_pk = p.pk and ").append(keys("r"))
        .append(" and not x.deleted and x.last_updated <= ").append(CopyLiteral.of(at))
        .append(" and ").append(exported("x", targets, searchSql));
    if (latestOnly) {
      q.append(" and not exists (").append(later("x.res_type", "x.res_id", "p.last_updated", "p.pk")).append(')');
    }
    return q.append(')').toString();
  }

  /** A Provenance current at T and not changed since, of the same target, later than the given one. */
  String later(String targetType, String targetId, String lastUpdated, String pk) {
    return "select 1 from idx_reference r2 join resource_version n on n.pk = r2.res_pk and n.valid_to is null where "
        + keys("r2") + " and r2.target_type = " + targetType + " and r2.target_id = " + targetId
        + " and n.res_type = 'Provenance' and not n.deleted and n.last_updated <= " + CopyLiteral.of(at)
        + " and (n.last_updated, n.pk) > (" + lastUpdated + ", " + pk + ")";
  }

  private String keys(String alias) {
    List<Object> params = new ArrayList<>();
    return CopyLiteral.inline(SearchSql.keyCondition(alias, target, params), params);
  }

  /**
   * True when the row at {@code alias} (a pk, type and lastUpdated at or before T) is one the
   * export writes as one of {@code of}: {@code _since}, the level's compartments, the filters.
   */
  private String exported(String alias, List<String> of, SearchSql searchSql) {
    StringBuilder c = new StringBuilder("(true");
    if (since != null) {
      c.append(" and ").append(alias).append(".last_updated > ").append(CopyLiteral.of(since));
    }
    switch (membership) {
      case ALL -> { }
      case ANY_COMPARTMENT -> c.append(" and exists (select 1 from compartment c where c.res_pk = ").append(alias)
          .append(".pk)");
      case MEMBERS -> c.append(" and exists (select 1 from compartment c join export_member m on m.patient_id =")
          .append(" c.patient_id where c.res_pk = ").append(alias).append(".pk and m.job_id = ")
          .append(CopyLiteral.of(jobId)).append(')');
    }
    c.append(" and (false");
    for (String type : of) {
      if (!type.matches("[A-Za-z]{1,64}")) {
        throw new IllegalArgumentException("not a resource type: " + type);
      }
      c.append(" or (").append(alias).append(".res_type = ").append(CopyLiteral.of(type));
      List<SearchQuery> anyOf = types.get(type);
      if (!anyOf.isEmpty()) {
        c.append(" and (false");
        for (SearchQuery query : anyOf) {
          SearchSql.Fragment f = searchSql.where(query, alias + ".pk");
          c.append(" or (").append(CopyLiteral.inline(f.sql(), f.params())).append(')');
        }
        c.append(')');
      }
      c.append(')');
    }
    return c.append("))").toString();
  }
}

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
 * The judgement reads the search index and {@code compartment}, which hold current versions:
 * it is exact for the Provenance and targets not changed since transactionTime (one COPY, bytes
 * as stored); a Provenance or target changed between kick-off and the part's run is judged by
 * its current state, not re-judged from its content as resource parts judge theirs.
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
    StringBuilder q = new StringBuilder("select p.content from resource_version p where p.res_type = 'Provenance'")
        .append(" and p.pk between ").append(pkFrom).append(" and ").append(pkTo)
        .append(" and p.last_updated <= ").append(CopyLiteral.of(at))
        .append(" and p.valid_to is null and not p.deleted");
    if (types.containsKey("Provenance")) {
      // written by the parts of the type Provenance
      q.append(" and not (").append(exported("p", List.of("Provenance"), searchSql)).append(')');
    }
    List<String> targets = types.keySet().stream().filter(t -> !t.equals("Provenance")).sorted().toList();
    if (targets.isEmpty()) {
      return q.append(" and false").toString();
    }
    q.append(" and exists (select 1 from idx_reference r join resource x on x.res_type = r.target_type")
        .append(" and x.res_id = r.target_id where r.res_pk = p.pk and ").append(keys("r"))
        .append(" and not x.deleted and x.last_updated <= ").append(CopyLiteral.of(at))
        .append(" and ").append(exported("x", targets, searchSql));
    if (latestOnly) {
      // no later Provenance of the same target, among those current at transactionTime
      q.append(" and not exists (select 1 from idx_reference r2 join resource_version n on n.pk = r2.res_pk")
          .append(" and n.valid_to is null where ").append(keys("r2"))
          .append(" and r2.target_type = x.res_type and r2.target_id = x.res_id and n.res_type = 'Provenance'")
          .append(" and not n.deleted and n.last_updated <= ").append(CopyLiteral.of(at))
          .append(" and (n.last_updated, n.pk) > (p.last_updated, p.pk))");
    }
    return q.append(") order by p.pk").toString();
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

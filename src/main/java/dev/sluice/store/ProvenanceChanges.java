package dev.sluice.store;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.search.SearchQuery;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * The Provenance of a {@code provenance} part that the index cannot judge as at transactionTime
 * ({@link ProvenanceScan#changedSql}): a Provenance replaced since T, or one whose target changed
 * since T. Each is parsed, its targets taken as the indexer takes them, and every target's
 * version at T read and judged from its content as resource parts judge replaced versions
 * (compartments by the caller's test, {@code _typeFilter} by {@link PastVersionSearch}). Such
 * Provenance are few: the changes between kick-off and the part's run.
 */
final class ProvenanceChanges {
  private static final String AT =
      """
      select pk, last_updated, content from resource_version
       where res_type = ? and res_id = ? and last_updated <= ? and (valid_to is null or valid_to > ?) and not deleted
      """;

  private final FhirModel fhir;
  private final SearchSql searchSql;
  private final PastVersionSearch pastVersions;

  ProvenanceChanges(FhirModel fhir, SearchSql searchSql, PastVersionSearch pastVersions) {
    this.fhir = fhir;
    this.searchSql = searchSql;
    this.pastVersions = pastVersions;
  }

  /** Writes the Provenance of {@code s} judged from their versions at T; runs inside the part's snapshot. */
  long write(Connection c, ProvenanceScan s, ExportScan.VersionTest inScope, ExportScan.RowSink sink)
      throws SQLException, IOException {
    long rows = 0;
    try (Statement st = c.createStatement()) {
      st.setFetchSize(100);
      try (ResultSet rs = st.executeQuery(s.changedSql(searchSql))) {
        while (rs.next()) {
          long pk = rs.getLong(1);
          Instant lastUpdated = rs.getTimestamp(2).toInstant();
          byte[] content = rs.getBytes(3);
          IBaseResource p = fhir.parse(content, Format.JSON);
          var version = new PastVersionSearch.PastVersion(pk, lastUpdated, p);
          if (s.types().containsKey("Provenance") && exported(c, s, inScope, "Provenance", version)) {
            continue;
          }
          if (anyTarget(c, s, inScope, version)) {
            sink.row(content, 0, content.length);
            rows++;
          }
        }
      }
    }
    return rows;
  }

  private boolean anyTarget(Connection c, ProvenanceScan s, ExportScan.VersionTest inScope,
      PastVersionSearch.PastVersion p) throws SQLException {
    List<String> targets = s.targetTypes();
    for (IndexRow row : pastVersions.rows("Provenance", p.resource())) {
      if (!(row instanceof IndexRow.Ref r) || !s.target().keys().contains(r.key()) || r.targetType() == null
          || !targets.contains(r.targetType())) {
        continue;
      }
      try (PreparedStatement ps = c.prepareStatement(AT)) {
        ps.setString(1, r.targetType());
        ps.setString(2, r.targetId());
        ps.setTimestamp(3, Timestamp.from(s.at()));
        ps.setTimestamp(4, Timestamp.from(s.at()));
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            continue;
          }
          var x = new PastVersionSearch.PastVersion(rs.getLong(1), rs.getTimestamp(2).toInstant(),
              fhir.parse(rs.getBytes(3), Format.JSON));
          if (exported(c, s, inScope, r.targetType(), x) && (!s.latestOnly() || latest(c, s, r, p))) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** Whether {@code v}, a version at T, is one the export writes as a {@code type}. */
  private boolean exported(Connection c, ProvenanceScan s, ExportScan.VersionTest inScope, String type,
      PastVersionSearch.PastVersion v) throws SQLException {
    if (s.since() != null && !v.lastUpdated().isAfter(s.since())) {
      return false;
    }
    if (s.membership() != ExportScan.Membership.ALL && !inScope.test(type, v.resource())) {
      return false;
    }
    List<SearchQuery> anyOf = s.types().get(type);
    return anyOf.isEmpty() || !pastVersions.matching(c, type, anyOf, List.of(v)).isEmpty();
  }

  private boolean latest(Connection c, ProvenanceScan s, IndexRow.Ref target, PastVersionSearch.PastVersion p)
      throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(s.later(CopyLiteral.of(target.targetType()),
        CopyLiteral.of(target.targetId()), CopyLiteral.of(p.lastUpdated()), Long.toString(p.pk())))) {
      return !rs.next();
    }
  }
}

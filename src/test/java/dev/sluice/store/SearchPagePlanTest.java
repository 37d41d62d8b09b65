package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchParser;
import dev.sluice.search.SearchQuery;
import dev.sluice.testing.TestServer;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGStatement;

/**
 * The pages of a frequent code read a few pages of the token index whatever lies before the
 * code's resources in pk order. The layout of a parallel load: the other types' resources (and
 * their token rows) first, then the Observations, a tenth of them with the code. Merging the
 * resources in pk order with {@code idx_token_res (res_pk, key)} filtered by key walked every
 * token row below the first match (15 ms for page 2 of medium x10's most frequent code, against
 * 3 ms sorted), and the planner chose between the two by a few per cent of estimated cost.
 */
class SearchPagePlanTest {
  private static final FhirModel fhir = new FhirModel();
  private static final SearchParameters parameters = new SearchParameters(fhir);
  private static final SearchParser parser = new SearchParser(fhir, parameters, OwnBases.none());
  private static final int PAGE = 50;
  private static TestServer server;
  private static ResourceSearch search;

  @BeforeAll
  static void load() throws Exception {
    server = TestServer.startFresh();
    search = new ResourceSearch(server.app().dataSource(), new SearchSql(Clock.systemUTC()));
    int claims = 60_000;
    int observations = 30_000;
    try (Connection c = server.app().dataSource().getConnection(); Statement s = c.createStatement()) {
      s.execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
          + " select case when n <= " + claims + " then 'Claim' else 'Observation' end, 'r' || n, 1, now(), false"
          + " from generate_series(1, " + (claims + observations) + ") n");
      s.execute("insert into resource_version (pk, version, res_type, res_id, last_updated, deleted, content)"
          + " select pk, 1, res_type, res_id, last_updated, false, convert_to('{}', 'UTF8') from resource");
      // five token rows per Claim, under keys of their own
      s.execute("insert into idx_token (res_pk, key, grp, system, code)"
          + " select r.pk, k, 0, 'http://example.org', 'c' || (r.pk % 50) from resource r, generate_series(1, 5) k"
          + " where r.res_type = 'Claim'");
      // one code per Observation, ten codes in turn, and a category
      s.execute("insert into idx_token (res_pk, key, grp, system, code)"
          + " select r.pk, " + "Observation.code".hashCode() + ", 0, 'http://loinc.org', 'code-' || (r.pk % 10)"
          + " from resource r where r.res_type = 'Observation'");
      s.execute("insert into idx_token (res_pk, key, grp, system, code)"
          + " select r.pk, " + "Observation.category".hashCode() + ", 0, 'http://terminology.hl7.org', 'laboratory'"
          + " from resource r where r.res_type = 'Observation'");
      s.execute("vacuum analyze");
    }
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  void the_first_and_second_page_of_a_frequent_code_read_a_few_token_index_pages() throws Exception {
    SearchQuery query = parser.parse("Observation", "code=http://loinc.org|code-3");
    // 51 index entries are a leaf page or two and the descent; the 3,000 entries of the code are
    // about 25 pages, every token row before the Observations about 1,100
    assertReadsFewTokenPages(query, null, "page 1");
    long last = lastPkOfFirstPage(search.pageStatement(query, PAGE, null));
    assertReadsFewTokenPages(query, new SearchCursor(false, List.of(), last), "page 2");
  }

  @Test
  void a_page_deep_in_the_result_reads_as_few_token_index_pages_as_the_first() throws Exception {
    SearchQuery query = parser.parse("Observation", "code=http://loinc.org|code-3");
    long deep = codeThreePks().get(2900);
    // the 2,900 entries before the cursor are about 25 pages: the index scan starts at the cursor instead
    assertReadsFewTokenPages(query, new SearchCursor(false, List.of(), deep), "the page after the 2,900th match");
    assertReadsFewTokenPages(query, new SearchCursor(true, List.of(), deep), "the page before it");
  }

  private static void assertReadsFewTokenPages(SearchQuery query, SearchCursor cursor, String page) throws Exception {
    assertThat(tokenBlocks(search.pageStatement(query, PAGE, cursor))).as("idx_token pages read by %s", page)
        .isLessThan(12);
  }

  @Test
  void the_pages_of_a_code_walked_forward_and_back_hold_each_match_once_in_pk_order() throws Exception {
    SearchQuery query = parser.parse("Observation", "code=http://loinc.org|code-3");
    List<Long> expected = codeThreePks();
    List<Long> forward = new java.util.ArrayList<>();
    List<ResourceSearch.Page> pages = new java.util.ArrayList<>();
    SearchCursor cursor = null;
    do {
      ResourceSearch.Page page = search.page(query, PAGE, cursor);
      pages.add(page);
      page.matches().forEach(f -> forward.add(f.pk()));
      cursor = page.next();
    } while (cursor != null);
    assertThat(forward).isEqualTo(expected);
    // back from the last page: each previous page is the one before it
    ResourceSearch.Page page = pages.getLast();
    for (int i = pages.size() - 2; i >= 0; i--) {
      page = search.page(query, PAGE, page.previous());
      assertThat(page.matches()).extracting(ResourceSearch.Found::pk)
          .isEqualTo(pages.get(i).matches().stream().map(ResourceSearch.Found::pk).toList());
    }
  }

  /** The pks of the Observations with code-3, in order, read from the table. */
  private static List<Long> codeThreePks() throws Exception {
    List<Long> pks = new java.util.ArrayList<>();
    try (Connection c = server.app().dataSource().getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select r.pk from resource r join idx_token t on t.res_pk = r.pk"
            + " where t.code = 'code-3' order by r.pk")) {
      while (rs.next()) {
        pks.add(rs.getLong(1));
      }
    }
    return pks;
  }

  private static long lastPkOfFirstPage(ResourceSearch.Statement statement) throws Exception {
    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement ps = prepare(c, statement.text(), statement.args());
        ResultSet rs = ps.executeQuery()) {
      long pk = 0;
      for (int i = 0; i < PAGE && rs.next(); i++) {
        pk = rs.getLong(1);
      }
      return pk;
    }
  }

  /** The buffers (hit or read) of the plan's scans of idx_token and its indexes, run with the values as a page runs. */
  private static long tokenBlocks(ResourceSearch.Statement statement) throws Exception {
    try (Connection c = server.app().dataSource().getConnection();
        PreparedStatement ps = prepare(c, "explain (analyze, buffers, format json) " + statement.text(), statement.args());
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      JsonNode plan = new ObjectMapper().readTree(rs.getString(1)).get(0).get("Plan");
      return blocks(plan);
    }
  }

  private static long blocks(JsonNode node) {
    long sum = 0;
    String relation = node.path("Relation Name").asText("");
    String index = node.path("Index Name").asText("");
    if (relation.equals("idx_token") || index.startsWith("idx_token")) {
      sum += node.path("Shared Hit Blocks").asLong() + node.path("Shared Read Blocks").asLong();
    }
    for (JsonNode child : node.path("Plans")) {
      sum += blocks(child);
    }
    return sum;
  }

  private static PreparedStatement prepare(Connection c, String text, List<Object> args) throws Exception {
    PreparedStatement ps = c.prepareStatement(text);
    ps.unwrap(PGStatement.class).setPrepareThreshold(0);
    for (int i = 0; i < args.size(); i++) {
      ps.setObject(i + 1, args.get(i));
    }
    return ps;
  }
}

package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * An InitialLoad into an empty server makes its staging tables the live ones (StageSwap): the
 * tables are new, and everything about them the catalog knows is as the migrations made it.
 * A later InitialLoad into the server, now not empty, copies its rows as before.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InitialLoadSwapTest {
  private static final String[] TYPES = {"Patient", "Encounter", "Observation", "Condition"};

  private static TestServer server;
  private static ImportClient client;
  private static List<String> migrated;
  private static long migratedResourceOid;

  @BeforeAll
  static void start() throws SQLException {
    server = TestServer.startFresh();
    client = new ImportClient(server);
    migrated = catalog();
    migratedResourceOid = oid("resource");
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  /**
   * A write that commits while the staging tables are being prepared (here: one the merge's lock
   * waits for) leaves the live tables not empty: the merge copies the rows instead of swapping.
   */
  @Test
  @Order(0)
  void a_write_that_lands_before_the_merge_locks_the_tables_makes_it_copy_instead() throws Exception {
    try (TestServer fresh = TestServer.startFresh()) {
      ImportClient other = new ImportClient(fresh);
      List<String> migratedHere = catalog(fresh);
      long oid = oid(fresh, "resource");
      List<String> lines = practitioners("held-pr-");
      other.write("held/practitioners.ndjson", lines);
      try (Connection hold = fresh.app().dataSource().getConnection();
          Connection watch = fresh.app().dataSource().getConnection()) {
        hold.setAutoCommit(false);
        hold.createStatement().execute("insert into resource (res_type, res_id, version, last_updated, deleted)"
            + " values ('Basic', 'written-meanwhile', 1, now(), false)");
        CompletableFuture<JsonNode> run = CompletableFuture.supplyAsync(
            () -> other.run(ImportClient.request("InitialLoad", "held/practitioners.ndjson", "Practitioner")));
        ImportDurabilityTest.awaitLockWait(watch, "lock table resource%");
        hold.commit();
        JsonNode result = run.get(60, TimeUnit.SECONDS);
        assertThat(ImportClient.imported(result)).isEqualTo(20);
      }
      assertThat(oid(fresh, "resource")).isEqualTo(oid);
      assertThat(scalar(fresh, "select count(*) from resource")).isEqualTo(21);
      assertThat(catalog(fresh)).containsExactlyElementsOf(migratedHere);
    }
  }

  @Test
  @Order(1)
  void into_an_empty_server_the_staged_tables_become_the_live_ones_with_the_same_catalog() throws Exception {
    // statements the server's connections prepared against the tables the swap drops
    for (int i = 0; i < 20; i++) {
      assertThat(total("Patient?family=Nobody&_summary=count")).isZero();
      assertThat(server.get("Patient/nobody").statusCode()).isEqualTo(404);
    }
    List<String> urlsAndTypes = new ArrayList<>();
    long lines = 0;
    for (String type : TYPES) {
      List<String> file = Fixtures.ndjson(Fixtures.small(), type);
      client.write("swap/" + type + ".ndjson", file);
      urlsAndTypes.add("swap/" + type + ".ndjson");
      urlsAndTypes.add(type);
      lines += file.size();
    }
    JsonNode result = client.run(ImportClient.request("InitialLoad", urlsAndTypes.toArray(String[]::new)));

    assertThat(ImportClient.imported(result)).isEqualTo(lines);
    assertThat(result.get("error")).isEmpty();
    assertThat(oid("resource")).as("resource is the staged table, not the migrated one").isNotEqualTo(migratedResourceOid);
    assertThat(catalog()).containsExactlyElementsOf(migrated);

    // the data is whole, indexed and searchable
    String patient = ImportClient.read(Fixtures.ndjson(Fixtures.small(), "Patient").get(0)).get("id").asText();
    assertThat(server.get("Patient/" + patient).statusCode()).isEqualTo(200);
    assertThat(total("Patient?_summary=count")).isEqualTo(Fixtures.ndjson(Fixtures.small(), "Patient").size());
    assertThat(total("Observation?patient=" + patient + "&_summary=count")).isPositive();
    assertThat(total("Encounter?subject=Patient/" + patient + "&_summary=count")).isPositive();

    for (int i = 0; i < 20; i++) {
      assertThat(total("Patient?family=Nobody&_summary=count")).isZero();
    }

    // the planner learns the rows as after any load (PostLoadAnalyzer: the renamed tables keep their counters)
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (scalar("select reltuples::bigint from pg_class where relname = 'resource'") != lines) {
      assertThat(System.nanoTime()).as("resource analyzed within a minute").isLessThan(deadline);
      Thread.sleep(200);
    }

    // the identity goes on after the imported keys
    long maxPk = scalar("select max(pk) from resource");
    HttpResponse<String> created = server.post("Basic",
        "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"after the swap\"}}", "Content-Type", "application/fhir+json");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(scalar("select pk from resource where res_type = 'Basic'")).isGreaterThan(maxPk);
  }

  @Test
  @Order(2)
  void into_a_server_that_holds_resources_the_rows_are_copied_and_the_tables_stay() throws SQLException {
    long before = oid("resource");
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      lines.add("{\"resourceType\":\"Practitioner\",\"id\":\"swap-pr-" + i + "\",\"name\":[{\"family\":\"Swap" + i
          + "\"}]}");
    }
    client.write("swap/practitioners.ndjson", lines);
    JsonNode result = client.run(ImportClient.request("InitialLoad", "swap/practitioners.ndjson", "Practitioner"));

    assertThat(ImportClient.imported(result)).isEqualTo(20);
    assertThat(oid("resource")).isEqualTo(before);
    assertThat(catalog()).containsExactlyElementsOf(migrated);
    assertThat(total("Practitioner?family=Swap7&_summary=count")).isEqualTo(1);
  }

  /**
   * Two InitialLoads into an empty server at once, of other types: whichever merges first swaps
   * its staging tables in, and the other then finds the live tables not empty and copies into
   * them (its staged keys came from the same identity, so none collides). Every resource of both
   * is there once, nothing staged is left, the catalog is the migrations', and new keys go on
   * after all of them. Which job merges first is the scheduler's: every assertion holds either way.
   * Before a staged batch locked the live resource table (VersionImport), the other job's swap
   * could replace the identity sequence under a batch, which then failed and waited for its lease.
   */
  @Test
  @Order(3)
  void two_initial_loads_into_an_empty_server_both_land_whole() throws Exception {
    try (TestServer fresh = TestServer.startFresh()) {
      ImportClient other = new ImportClient(fresh);
      List<String> migratedHere = catalog(fresh);
      // inputs of about the same time to stage, so that both merges run at once (the case that hung)
      List<String> observations = Fixtures.ndjson(Fixtures.medium(), "Observation");
      List<String> encounters = Fixtures.ndjson(Fixtures.medium(), "Encounter");
      List<String> conditions = Fixtures.ndjson(Fixtures.medium(), "Claim");
      other.write("both/Observation.ndjson", observations);
      other.write("both/Encounter.ndjson", encounters);
      other.write("both/Claim.ndjson", conditions);

      String first = other.start(ImportClient.request("InitialLoad", "both/Observation.ndjson", "Observation"));
      String second = other.start(ImportClient.request("InitialLoad", "both/Encounter.ndjson",
          "Encounter", "both/Claim.ndjson", "Claim"));
      JsonNode one = other.await(first);
      JsonNode two = other.await(second);

      // no batch failed and waited for its lease to lapse (a staged insert that took its key from
      // the identity sequence the other job's swap had just replaced did, 30 s)
      assertThat(scalar(fresh, "select max(attempt) from import_part")).isEqualTo(1);
      assertThat(ImportClient.imported(one)).isEqualTo(observations.size());
      assertThat(ImportClient.imported(two)).isEqualTo(encounters.size() + conditions.size());
      assertThat(one.get("error")).isEmpty();
      assertThat(two.get("error")).isEmpty();
      long all = observations.size() + encounters.size() + conditions.size();
      assertThat(scalar(fresh, "select count(*) from resource")).isEqualTo(all);
      assertThat(scalar(fresh, "select count(distinct (res_type, res_id)) from resource_version")).isEqualTo(all);
      for (List<String> lines : List.of(observations, encounters, conditions)) {
        JsonNode sample = ImportClient.read(lines.get(lines.size() / 2));
        assertThat(fresh.get(sample.get("resourceType").asText() + "/" + sample.get("id").asText()).statusCode())
            .isEqualTo(200);
      }
      assertThat(catalog(fresh)).containsExactlyElementsOf(migratedHere);

      long maxPk = scalar(fresh, "select max(pk) from resource");
      HttpResponse<String> created = fresh.post("Basic",
          "{\"resourceType\":\"Basic\",\"code\":{\"text\":\"after two loads\"}}", "Content-Type",
          "application/fhir+json");
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      assertThat(scalar(fresh, "select pk from resource where res_type = 'Basic'")).isGreaterThan(maxPk);
    }
  }

  /**
   * A staging table holding an index left by an earlier preparation, under a staged index's name
   * but with another definition (a crash in the preparation, then a migration that changed the
   * live indexes: staged names were numbered by their place in the list): the preparation builds
   * its own and drops the leftover, so the swapped tables end as the migrations made them.
   */
  @Test
  @Order(4)
  void an_index_left_on_a_staging_table_under_another_definition_is_not_taken_for_a_live_one() throws Exception {
    try (TestServer fresh = TestServer.startFresh()) {
      ImportClient other = new ImportClient(fresh);
      List<String> migratedHere = catalog(fresh);
      long oid = oid(fresh, "resource");
      List<String> lines = practitioners("left-pr-");
      other.write("left/practitioners.ndjson", lines);
      String status;
      try (Connection counts = fresh.app().dataSource().getConnection();
          Connection job = fresh.app().dataSource().getConnection();
          Connection watch = fresh.app().dataSource().getConnection()) {
        // the part's batch waits at its counts, until the merge is held at the job's row (no key
        // update: a merge's claim skips the row, the batch's key share of it is not waited for)
        counts.setAutoCommit(false);
        counts.createStatement().execute("lock table import_count in share mode");
        status = other.start(ImportClient.request("InitialLoad", "left/practitioners.ndjson",
            "Practitioner"));
        String id = ImportClient.jobId(status);
        ImportDurabilityTest.awaitLockWait(watch, "insert into import_count%");
        job.setAutoCommit(false);
        job.createStatement().execute("select 1 from import_job where id = '" + id + "' for no key update");
        counts.rollback();
        long deadline = System.nanoTime() + 60_000_000_000L;
        // the batch committed (the part's end, which marks the job for its merge, waits for the row)
        while (scalar(fresh, "select next_line from import_part where job_id = '" + id + "'") <= lines.size()) {
          assertThat(System.nanoTime()).as("input staged in time").isLessThan(deadline);
          Thread.sleep(50);
        }
        String prefix = "import_stage_" + id.replace("-", "") + "_";
        watch.createStatement().execute("create index " + prefix + "i1 on " + prefix + "idx_uri (uri)");
        job.rollback();
      }
      JsonNode result = other.await(status);
      assertThat(ImportClient.imported(result)).isEqualTo(20);
      assertThat(oid(fresh, "resource")).as("swapped in").isNotEqualTo(oid);
      assertThat(catalog(fresh)).containsExactlyElementsOf(migratedHere);
    }
  }

  /**
   * The index and compartment tables of a job's stage have the live lookup by resource (the index
   * a batch deletes a staged resource's old rows with) from the kick-off, under the name the swap
   * keeps: before, they had one on res_pk alone, which the merge dropped to build the live one.
   */
  @Test
  @Order(5)
  void the_staging_tables_carry_the_live_lookups_by_resource_from_the_kick_off() throws Exception {
    try (TestServer fresh = TestServer.startFresh()) {
      ImportClient other = new ImportClient(fresh);
      other.write("lookups/practitioners.ndjson", practitioners("lookup-pr-"));
      String status;
      List<String> staged;
      List<String> stagedIndexes;
      try (Connection counts = fresh.app().dataSource().getConnection()) {
        // the part's batch waits at its counts: the stage is not swapped in while it is looked at
        counts.setAutoCommit(false);
        counts.createStatement().execute("lock table import_count in share mode");
        status = other.start(ImportClient.request("InitialLoad", "lookups/practitioners.ndjson",
            "Practitioner"));
        String id = ImportClient.jobId(status);
        staged = lookups(fresh, "import_stage_" + id.replace("-", "") + "_", "pg_get_indexdef(i.indexrelid)");
        stagedIndexes = lookups(fresh, "import_stage_" + id.replace("-", "") + "_", "i.indexrelid::bigint::text");
        counts.rollback();
      }
      assertThat(staged).isNotEmpty().containsExactlyElementsOf(lookups(fresh, "", "pg_get_indexdef(i.indexrelid)"));
      assertThat(ImportClient.imported(other.await(status))).isEqualTo(20);
      assertThat(lookups(fresh, "", "i.indexrelid::bigint::text")).as("the staged indexes, swapped in")
          .containsExactlyElementsOf(stagedIndexes);
    }
  }

  /**
   * The indexes of the index and compartment tables named with {@code prefix} that start with
   * res_pk: each as its table and {@code what} (an expression over pg_index i).
   */
  private static List<String> lookups(TestServer on, String prefix, String what) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = on.app().dataSource().getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("select substr(t.relname, " + (prefix.length() + 1) + "),"
            + " regexp_replace(" + what + ", '^.* USING ', '')"
            + " from pg_index i join pg_class t on t.oid = i.indrelid where t.relname in ('" + prefix + "compartment', '"
            + prefix + "idx_token', '" + prefix + "idx_string', '" + prefix + "idx_date', '" + prefix + "idx_number', '"
            + prefix + "idx_quantity', '" + prefix + "idx_reference', '" + prefix + "idx_uri')"
            + " and pg_get_indexdef(i.indexrelid) ~ 'USING btree \\(res_pk' order by 1, 2")) {
      while (rs.next()) {
        out.add(rs.getString(1) + " " + rs.getString(2));
      }
    }
    return out;
  }

  /** Twenty Practitioners whose ids start with {@code prefix}. */
  private static List<String> practitioners(String prefix) {
    List<String> lines = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      lines.add("{\"resourceType\":\"Practitioner\",\"id\":\"" + prefix + i + "\"}");
    }
    return lines;
  }

  private static long total(String search) {
    HttpResponse<String> r = server.get(search);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return ImportClient.read(r.body()).get("total").asLong();
  }

  private static long oid(String table) throws SQLException {
    return oid(server, table);
  }

  private static long oid(TestServer on, String table) throws SQLException {
    return scalar(on, "select '" + table + "'::regclass::oid::bigint");
  }

  private static long scalar(String sql) throws SQLException {
    return scalar(server, sql);
  }

  private static long scalar(TestServer on, String sql) throws SQLException {
    try (Connection c = on.app().dataSource().getConnection(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** What the catalog says about the resource, version, compartment and index tables, by name. */
  private static List<String> catalog() throws SQLException {
    return catalog(server);
  }

  private static List<String> catalog(TestServer on) throws SQLException {
    String tables = "('resource', 'resource_version', 'compartment', 'idx_token', 'idx_string', 'idx_date',"
        + " 'idx_number', 'idx_quantity', 'idx_reference', 'idx_uri')";
    String[] queries = {
      "select 'table ' || relname || ' ' || relkind::text || relpersistence::text || ' ' || coalesce(reloptions::text, '')"
          + " || ' ' || coalesce(relacl::text, '') || ' ' || relrowsecurity || ' ' || pg_get_userbyid(relowner)"
          + " from pg_class where relname in " + tables + " and relnamespace = 'public'::regnamespace",
      "select 'column ' || c.relname || '.' || a.attname || ' #' || row_number() over (partition by c.relname order by"
          + " a.attnum) || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull || ' ' || a.attidentity::text"
          + " || ' ' || a.attgenerated::text || ' ' || a.attstorage::text || ' ' || a.attcompression::text || ' ' || coalesce(co.collname, '')"
          // pg_attver, an option this PostgreSQL build stamps on each column as its table is made, differs by nature
          + " || ' ' || coalesce(a.attstattarget::text, '') || ' '"
          + " || regexp_replace(coalesce(a.attoptions::text, ''), 'pg_attver=[0-9]+,?', '') || ' '"
          + " || coalesce(pg_get_expr(d.adbin, d.adrelid), '')"
          + " from pg_attribute a join pg_class c on c.oid = a.attrelid left join pg_collation co on co.oid = a.attcollation"
          + " and a.attcollation <> 100 left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum"
          + " where c.relname in " + tables + " and a.attnum > 0 and not a.attisdropped",
      "select 'index ' || pg_get_indexdef(i.indexrelid) || ' ' || i.indisprimary::text || i.indisunique::text"
          + " || i.indisclustered::text || i.indisvalid::text || i.indisreplident::text || ' ' || coalesce(x.reloptions::text, '')"
          + " from pg_index i join pg_class t on t.oid = i.indrelid join pg_class x on x.oid = i.indexrelid"
          + " where t.relname in " + tables,
      "select 'constraint ' || t.relname || ' ' || k.conname || ' ' || k.contype::text || ' ' || pg_get_constraintdef(k.oid)"
          + " || ' ' || k.convalidated::text || k.condeferrable::text || k.condeferred::text"
          + " from pg_constraint k join pg_class t on t.oid = k.conrelid where t.relname in " + tables
          + " or k.confrelid in (select oid from pg_class where relname in " + tables + ")",
      "select 'statistics ' || pg_get_statisticsobjdef(x.oid) from pg_statistic_ext x join pg_class t on t.oid = x.stxrelid"
          + " where t.relname in " + tables,
      "select 'sequence ' || s.seqrelid::regclass || ' ' || format_type(s.seqtypid, null) || ' ' || s.seqstart || ' '"
          + " || s.seqincrement || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle || ' '"
          + " || d.deptype::text || ' ' || t.relname from pg_sequence s join pg_depend d on d.objid = s.seqrelid"
          + " and d.classid = 'pg_class'::regclass and d.refclassid = 'pg_class'::regclass"
          + " join pg_class t on t.oid = d.refobjid where t.relname in " + tables,
      "select 'dependent ' || d.classid::regclass || ' ' || t.relname || ' ' || d.deptype::text"
          + " from pg_depend d join pg_class t on t.oid = d.refobjid and d.refclassid = 'pg_class'::regclass"
          + " where t.relname in " + tables + " and d.classid not in ('pg_class'::regclass, 'pg_type'::regclass,"
          + " 'pg_constraint'::regclass, 'pg_statistic_ext'::regclass)",
      // a foreign key's triggers are named by oids, which differ: counted
      "select 'trigger ' || kind || ' ' || relname || ' ' || count(*) from (select case when tg.tgisinternal"
          + " then 'internal' else tg.tgname end kind, t.relname from pg_trigger tg join pg_class t on t.oid = tg.tgrelid"
          + " where t.relname in " + tables + ") x group by kind, relname",
      "select 'leftover ' || relname from pg_class where relname like 'import_stage%'",
    };
    List<String> out = new ArrayList<>();
    try (Connection c = on.app().dataSource().getConnection(); Statement s = c.createStatement()) {
      for (String q : queries) {
        try (ResultSet rs = s.executeQuery(q)) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      }
    }
    out.sort(null);
    return out;
  }
}

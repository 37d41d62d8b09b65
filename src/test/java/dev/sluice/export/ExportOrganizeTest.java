package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import dev.sluice.testing.ChildServer;
import dev.sluice.testing.Fixtures;
import java.nio.file.Path;
import java.sql.ResultSet;
import org.junit.jupiter.api.Test;

/**
 * {@code organizeOutputBy=Patient} (Bulk Data STU3) over real HTTP: files of blocks, each a
 * header {@code Parameters} naming a patient, then that Patient, then the rest of its
 * compartment; {@code outputOrganizedBy} and {@code continuesInFile} in the manifest. The
 * fixture's files roll over every 500 lines and two of its patients have more than 600
 * resources, so some blocks must span files.
 */
class ExportOrganizeTest {
  /** The small population's types that are in Patient compartments. */
  private static final List<String> TYPES = ExportClient.SMALL_TYPES.stream()
      .filter(t -> !t.equals("Organization") && !t.equals("Practitioner")).toList();
  private static final String ALL_TYPES = "_type=" + String.join(",", TYPES);
  private static final String[] LENIENT = {"Accept", "application/fhir+json", "Prefer",
      "respond-async, handling=lenient"};

  // a server of its own, not ExportFixture's: these tests add Patients, which would change the
  // population's counts that the other export tests check
  private static TestServer server;
  private static ExportClient client;
  private static Map<String, List<String>> loaded;

  @org.junit.jupiter.api.BeforeAll
  static void start() {
    server = TestServer.start(ExportFixture.tempDir(), ExportFixture.config(e -> e));
    client = new ExportClient(server);
    loaded = client.load(dev.sluice.testing.Fixtures.small(), ExportClient.SMALL_TYPES);
  }

  @org.junit.jupiter.api.AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** A transaction that holds an xid, so that a kick-off waits for it before scanning. */
  private static Connection holdTransaction() throws Exception {
    Connection c = server.app().dataSource().getConnection();
    c.setAutoCommit(false);
    c.createStatement().execute("select pg_current_xact_id()");
    return c;
  }

  /** One block as read back: its patient and its resources (header left out), over every file it spans. */
  private record Block(String patient, List<JsonNode> resources) {}

  /** What an organized export wrote, checked for the layout the guide asks for. */
  private record Organized(List<Block> blocks, int continuations) {
    Set<String> keys() {
      Set<String> keys = new HashSet<>();
      for (Block b : blocks) {
        for (JsonNode r : b.resources()) {
          assertThat(keys.add(key(r))).as("written twice: " + key(r)).isTrue();
        }
      }
      return keys;
    }
  }

  private static String key(JsonNode r) {
    return r.get("resourceType").asText() + "/" + r.get("id").asText();
  }

  private static String headerPatient(JsonNode line) {
    assertThat(line.get("resourceType").asText()).as("a block starts with its header: " + line).isEqualTo("Parameters");
    JsonNode p = line.get("parameter");
    assertThat(p.size()).isEqualTo(1);
    assertThat(p.get(0).get("name").asText()).isEqualTo("header");
    String ref = p.get(0).get("valueReference").get("reference").asText();
    assertThat(ref).startsWith("Patient/");
    return ref.substring("Patient/".length());
  }

  /**
   * Reads every output file in manifest order and checks the layout: the manifest names
   * {@code outputOrganizedBy}, no entry has a type, every file starts with a header, a block
   * that goes on in the next file is linked by {@code continuesInFile} and starts that file
   * with the same header, each block's Patient comes first, and every other resource refers
   * to the block's patient.
   */
  private Organized organized(JsonNode manifest) {
    return organized(client, manifest);
  }

  private static Organized organized(ExportClient client, JsonNode manifest) {
    assertThat(manifest.path("outputOrganizedBy").asText()).isEqualTo("Patient");
    Map<String, JsonNode> byUrl = new LinkedHashMap<>();
    for (JsonNode f : manifest.get("output")) {
      assertThat(f.has("type")).as("an organized file holds many types: " + f).isFalse();
      byUrl.put(f.get("url").asText(), f);
    }
    Set<String> continued = new HashSet<>();
    for (JsonNode f : byUrl.values()) {
      if (f.has("continuesInFile")) {
        assertThat(byUrl).as("continuesInFile names an output file").containsKey(f.get("continuesInFile").asText());
        continued.add(f.get("continuesInFile").asText());
      }
    }
    Map<String, List<String>> lines = new HashMap<>();
    byUrl.keySet().forEach(url -> lines.put(url, client.download(url)));
    List<Block> blocks = new ArrayList<>();
    Set<String> seenPatients = new HashSet<>();
    for (Map.Entry<String, JsonNode> e : byUrl.entrySet()) {
      if (continued.contains(e.getKey())) {
        continue; // read as the continuation of the file that names it
      }
      Block open = null;
      String url = e.getKey();
      while (url != null) {
        List<String> file = lines.get(url);
        assertThat(byUrl.get(url).get("count").asLong()).as("count of " + url).isEqualTo(file.size());
        boolean first = true;
        for (String l : file) {
          JsonNode r = ExportClient.read(l);
          if (r.get("resourceType").asText().equals("Parameters")) {
            String patient = headerPatient(r);
            if (first && open != null) {
              assertThat(patient).as("a continued file repeats the header of the block it continues")
                  .isEqualTo(open.patient());
            } else {
              assertThat(seenPatients.add(patient)).as("one block per patient: " + patient).isTrue();
              open = new Block(patient, new ArrayList<>());
              blocks.add(open);
            }
          } else {
            assertThat(open).as("a resource before any header in " + url).isNotNull();
            assertThat(first).as("a file starts with a header").isFalse();
            open.resources().add(r);
          }
          first = false;
        }
        JsonNode entry = byUrl.get(url);
        url = entry.has("continuesInFile") ? entry.get("continuesInFile").asText() : null;
        if (url != null) {
          assertThat(lines.get(url)).isNotEmpty();
        }
      }
    }
    for (Block b : blocks) {
      for (int i = 0; i < b.resources().size(); i++) {
        JsonNode r = b.resources().get(i);
        if (r.get("resourceType").asText().equals("Patient") && r.get("id").asText().equals(b.patient())) {
          assertThat(i).as("the block's Patient comes right after its header").isZero();
        } else {
          assertThat(r.toString()).as("in the compartment of Patient/" + b.patient())
              .contains("Patient/" + b.patient() + "\"");
        }
      }
    }
    return new Organized(blocks, continued.size());
  }

  /** The type/id of every output line of a plain (organized by type) export. */
  private Set<String> plain(String path) {
    JsonNode m = client.manifest(path);
    Set<String> keys = new HashSet<>();
    for (JsonNode f : m.get("output")) {
      for (String l : client.download(f.get("url").asText())) {
        assertThat(keys.add(key(ExportClient.read(l)))).isTrue();
      }
    }
    return keys;
  }

  private List<String> patientIds() {
    return loaded.get("Patient").stream().map(ExportClient::id).sorted().toList();
  }

  @Test
  void patient_level_blocks_hold_every_resource_once_after_their_header_and_patient() {
    Organized o = organized(client.manifest("Patient/$export?organizeOutputBy=Patient&" + ALL_TYPES));
    Set<String> expected = plain("Patient/$export?" + ALL_TYPES);
    assertThat(o.keys()).isEqualTo(expected);
    // the population, and the Patients other tests of this class may have added
    Set<String> population = new HashSet<>();
    TYPES.forEach(t -> loaded.get(t).forEach(l -> population.add(t + "/" + ExportClient.id(l))));
    assertThat(expected).containsAll(population);
    assertThat(expected).allMatch(k -> population.contains(k) || k.startsWith("Patient/org-"));
    assertThat(o.blocks()).extracting(Block::patient).containsAll(patientIds());
    // two patients have more than the 500 lines a file holds
    assertThat(o.continuations()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void partial_manifest_pages_carry_the_layout_and_together_every_block() {
    HttpResponse<String> done = client.await(client.start("Patient/$export?organizeOutputBy=Patient"
        + "&allowPartialManifests=true&" + ALL_TYPES));
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode page = ExportClient.read(done.body());
    com.fasterxml.jackson.databind.node.ObjectNode all = page.deepCopy();
    com.fasterxml.jackson.databind.node.ArrayNode output = all.putArray("output");
    while (true) {
      assertThat(page.path("outputOrganizedBy").asText()).isEqualTo("Patient");
      page.get("output").forEach(output::add);
      if (!page.has("link")) {
        break;
      }
      HttpResponse<String> next = client.get(page.get("link").get(0).get("url").asText());
      assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
      page = ExportClient.read(next.body());
    }
    all.remove("link");
    Organized o = organized(all);
    assertThat(o.keys()).isEqualTo(plain("Patient/$export?" + ALL_TYPES));
    assertThat(o.continuations()).isGreaterThanOrEqualTo(2);
  }

  @Test
  void group_level_blocks_are_the_members_only() {
    List<String> ids = patientIds();
    client.put("Group/org-three", "{\"resourceType\":\"Group\",\"id\":\"org-three\",\"type\":\"person\",\"actual\":true,"
        + "\"member\":[{\"entity\":{\"reference\":\"Patient/" + ids.get(0) + "\"}},"
        + "{\"entity\":{\"reference\":\"Patient/" + ids.get(3) + "\"}},"
        + "{\"entity\":{\"reference\":\"Patient/" + ids.get(7) + "\"}}]}");
    Organized o = organized(client.manifest("Group/org-three/$export?organizeOutputBy=Patient&" + ALL_TYPES));
    assertThat(o.keys()).isEqualTo(plain("Group/org-three/$export?" + ALL_TYPES));
    assertThat(o.blocks()).extracting(Block::patient).containsExactlyInAnyOrder(ids.get(0), ids.get(3), ids.get(7));
  }

  @Test
  void type_type_filter_and_patient_narrow_the_blocks_as_they_narrow_a_plain_export() {
    List<String> ids = patientIds();
    String narrowed = "_type=Patient,Observation,Condition&_typeFilter=Observation%3Fcategory%3Dvital-signs"
        + "&patient=Patient/" + ids.get(1) + ",Patient/" + ids.get(2) + ",Patient/" + ids.get(5);
    Organized o = organized(client.manifest("Patient/$export?organizeOutputBy=Patient&" + narrowed));
    Set<String> expected = plain("Patient/$export?" + narrowed);
    assertThat(o.keys()).isEqualTo(expected);
    assertThat(expected).anyMatch(k -> k.startsWith("Observation/")).anyMatch(k -> k.startsWith("Condition/"));
    assertThat(o.blocks()).extracting(Block::patient).containsExactlyInAnyOrder(ids.get(1), ids.get(2), ids.get(5));
    // without Patient in _type a block is its header and the rest of the compartment
    Organized noPatients = organized(client.manifest("Patient/$export?organizeOutputBy=Patient&_type=Condition"));
    assertThat(noPatients.keys()).isEqualTo(plain("Patient/$export?_type=Condition"));
    assertThat(noPatients.keys()).noneMatch(k -> k.startsWith("Patient/"));
  }

  @Test
  void elements_subsets_the_resources_and_leaves_the_headers_whole() {
    String p = patientIds().get(4);
    Organized o = organized(client.manifest("Patient/$export?organizeOutputBy=Patient&_type=Patient,Condition"
        + "&_elements=gender,Condition.code&patient=Patient/" + p));
    assertThat(o.blocks()).singleElement().satisfies(b -> {
      assertThat(b.patient()).isEqualTo(p);
      assertThat(b.resources()).hasSizeGreaterThan(1);
      assertThat(b.resources()).allSatisfy(r -> assertThat(r.path("meta").toString()).contains("SUBSETTED"));
      assertThat(b.resources().get(0).has("name")).isFalse();
      assertThat(b.resources().get(0).has("gender")).isTrue();
    });
  }

  @Test
  void since_keeps_the_changed_resources_in_their_patients_blocks() throws Exception {
    Instant before = Instant.now();
    Thread.sleep(20);
    client.put("Patient/org-since", "{\"resourceType\":\"Patient\",\"id\":\"org-since\"}");
    client.put("Flag/org-since-1", flag("org-since-1", "org-since"));
    client.put("Flag/org-since-2", flag("org-since-2", "org-since"));
    String since = "_since=" + before;
    Organized o = organized(client.manifest("Patient/$export?organizeOutputBy=Patient&_type=Patient,Flag&" + since));
    assertThat(o.keys()).isEqualTo(plain("Patient/$export?_type=Patient,Flag&" + since));
    Block b = o.blocks().stream().filter(x -> x.patient().equals("org-since")).findFirst().orElseThrow();
    assertThat(b.resources()).extracting(ExportOrganizeTest::key)
        .containsExactly("Patient/org-since", "Flag/org-since-1", "Flag/org-since-2");
  }

  private static String flag(String id, String patient) {
    return "{\"resourceType\":\"Flag\",\"id\":\"" + id + "\",\"status\":\"active\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"}}";
  }

  @Test
  void a_resource_changed_after_transaction_time_is_written_as_it_was_in_its_old_patients_block() throws Exception {
    client.put("Patient/org-old", "{\"resourceType\":\"Patient\",\"id\":\"org-old\"}");
    client.put("Patient/org-new", "{\"resourceType\":\"Patient\",\"id\":\"org-new\"}");
    client.put("Flag/org-moved", flag("org-moved", "org-old"));
    client.put("Flag/org-gone", flag("org-gone", "org-old"));
    String status;
    try (Connection held = holdTransaction()) {
      status = client.start("Patient/$export?organizeOutputBy=Patient&_type=Patient,Flag&patient=Patient/org-old,"
          + "Patient/org-new");
      // after transactionTime, and before the job is planned (it waits for the held transaction)
      client.put("Flag/org-moved", flag("org-moved", "org-new"));
      assertThat(client.delete("Flag/org-gone").statusCode()).isIn(200, 204);
      held.rollback();
    }
    HttpResponse<String> done = client.await(status);
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    Organized o = organized(ExportClient.read(done.body()));
    Map<String, List<String>> byPatient = new HashMap<>();
    o.blocks().forEach(b -> byPatient.put(b.patient(), b.resources().stream().map(ExportOrganizeTest::key).toList()));
    assertThat(byPatient.get("org-old")).containsExactlyInAnyOrder("Patient/org-old", "Flag/org-moved", "Flag/org-gone");
    assertThat(byPatient.get("org-new")).containsExactly("Patient/org-new");
  }

  @Test
  void a_resource_in_several_compartments_is_written_once() {
    client.put("Patient/org-a", "{\"resourceType\":\"Patient\",\"id\":\"org-a\"}");
    client.put("Patient/org-b", "{\"resourceType\":\"Patient\",\"id\":\"org-b\","
        + "\"link\":[{\"other\":{\"reference\":\"Patient/org-a\"},\"type\":\"seealso\"}]}");
    client.put("Flag/org-both", "{\"resourceType\":\"Flag\",\"id\":\"org-both\",\"status\":\"active\","
        + "\"code\":{\"text\":\"x\"},\"subject\":{\"reference\":\"Patient/org-a\"},"
        + "\"author\":{\"reference\":\"Patient/org-b\"}}");
    String path = "Patient/$export?organizeOutputBy=Patient&_type=Patient,Flag&patient=Patient/org-a,Patient/org-b";
    Organized o = organized(client.manifest(path));
    Map<String, List<String>> byPatient = new HashMap<>();
    o.blocks().forEach(b -> byPatient.put(b.patient(), b.resources().stream().map(ExportOrganizeTest::key).toList()));
    // Patient/org-b is in org-a's compartment too (link), but a Patient heads its own block
    assertThat(byPatient.get("org-b")).containsExactly("Patient/org-b");
    assertThat(byPatient.get("org-a")).containsExactly("Patient/org-a", "Flag/org-both");
  }

  @Test
  void another_organizing_type_is_a_400_naming_it() {
    HttpResponse<String> r = client.kickOff("Patient/$export?organizeOutputBy=Encounter");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("organizeOutputBy").contains("Encounter")
        .contains("not-supported");
    HttpResponse<String> notAType = client.kickOff("Patient/$export?organizeOutputBy=Nonsense");
    assertThat(notAType.statusCode()).isEqualTo(400);
    assertThat(notAType.body()).contains("organizeOutputBy").contains("Nonsense");
  }

  @Test
  void system_level_organizing_is_a_400() {
    HttpResponse<String> r = client.kickOff("$export?organizeOutputBy=Patient");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("organizeOutputBy").contains("not-supported").contains("Patient/$export");
  }

  @Test
  void de_identification_with_organizing_is_a_400() {
    HttpResponse<String> r = client.kickOff("Patient/$export?organizeOutputBy=Patient&_container=org-deid"
        + "&_anonymizationConfig=safe-harbor.json");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("organizeOutputBy").contains("_anonymizationConfig");
  }

  @Test
  void under_lenient_handling_another_organizing_type_is_left_out_and_reported() {
    HttpResponse<String> r = client.kickOff("Patient/$export?organizeOutputBy=Encounter&_type=Condition", LENIENT);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    JsonNode m = ExportClient.read(client.await(r.headers().firstValue("Content-Location").orElseThrow()).body());
    assertThat(m.has("outputOrganizedBy")).isFalse();
    assertThat(ExportClient.counts(m)).containsEntry("Condition", (long) loaded.get("Condition").size());
    assertThat(client.lines(m, "error", "OperationOutcome")).singleElement().asString()
        .contains("organizeOutputBy").contains("Encounter").contains("\"warning\"");
  }

  @Test
  void kill_9_in_the_middle_then_restart_redoes_the_parts_and_writes_every_resource_once() throws Exception {
    List<String> types = List.of("Patient", "Encounter", "Observation");
    Path dir = ExportFixture.tempDir();
    int port = ChildServer.freePort();
    String[] flags = {"--export-lease", "3", "--export-part-size", "300", "--export-max-file-resources", "200"};
    String path = "Patient/$export?organizeOutputBy=Patient&_type=" + String.join(",", types);
    String status;
    Map<String, List<String>> population;
    try (ChildServer first = ChildServer.start(dir, port, flags)) {
      ExportClient c = new ExportClient(first.base());
      population = c.load(Fixtures.small(), types);
      try (Connection lock = first.dataSource().getConnection();
          Connection watch = first.dataSource().getConnection()) {
        status = ScanBlocker.startBlocked(c, first.dataSource(), lock, path);
        awaitBlockedParts(watch, 2);
        first.kill();
        lock.rollback();
      }
    }
    try (ChildServer second = ChildServer.start(dir, port, flags)) {
      ExportClient c = new ExportClient(second.base());
      HttpResponse<String> done = c.await(status);
      assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
      Organized o = organized(c, ExportClient.read(done.body()));
      Set<String> expected = new HashSet<>();
      types.forEach(t -> population.get(t).forEach(l -> expected.add(t + "/" + ExportClient.id(l))));
      assertThat(o.keys()).isEqualTo(expected);
      assertThat(o.continuations()).isPositive();
      try (Connection db = second.dataSource().getConnection();
          ResultSet rs = db.createStatement().executeQuery("select max(attempt) from export_part")) {
        rs.next();
        assertThat(rs.getInt(1)).as("a part was taken over from the dead process").isGreaterThan(1);
      }
    }
  }

  /** Waits until {@code n} parts wait on the lock that ScanBlocker holds on resource_version. */
  private static void awaitBlockedParts(Connection watch, int n) throws Exception {
    ScanBlocker.awaitLockWaits(watch, n, "%resource_version n%");
  }
}

package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.LoadRun;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The migration the issue asks for, exact, between two real servers each on its own embedded
 * PostgreSQL: server A with the small Synthea population and a sample of updates and deletes
 * (several versions, deletions, a deletion undone by a re-create), exported with
 * {@code includeAssociatedData=_history,_deleted}; every file imported into an empty server B;
 * then every version of every resource, each resource's and each type's {@code _history}, the
 * deleted state, and a second export are the same on both.
 */
class RoundTripTest {
  private static final Pattern FILE = Pattern.compile("([A-Za-z]+)(-history|-deleted)?-[0-9]+\\.ndjson");
  private static final String[] ASYNC = {"Accept", "application/fhir+json", "Prefer", "respond-async"};

  private static TestServer a;
  /** A's export with _history,_deleted: file name to lines. */
  private static Map<String, List<String>> exportOfA;
  /** Every resource of A's export, as Type/id. */
  private static TreeSet<String> resources;

  @BeforeAll
  static void loadAndChangeA() {
    a = TestServer.startFresh();
    LoadRun load = LoadRun.into(a.base(), Fixtures.small().toString());
    assertThat(load.exitCode()).as(load.out() + load.err()).isZero();
    changeASample();
    exportOfA = export(a);
    resources = new TreeSet<>();
    exportOfA.values().forEach(lines -> lines.forEach(l -> {
      JsonNode r = ImportClient.read(l);
      resources.add(r.get("resourceType").asText() + "/" + r.get("id").asText());
    }));
  }

  @AfterAll
  static void stop() {
    if (a != null) {
      a.close();
    }
  }

  /** Several versions of some resources, some deleted, one deleted and created again. */
  private static void changeASample() {
    List<String> patients = Fixtures.ndjson(Fixtures.small(), "Patient");
    for (int i = 0; i < 3; i++) {
      ObjectNode p = (ObjectNode) ImportClient.read(patients.get(i));
      for (int v = 0; v < 2; v++) {
        p.put("active", v == 0);
        put(a, p);
      }
    }
    List<String> observations = Fixtures.ndjson(Fixtures.small(), "Observation");
    for (int i = 0; i < 20; i++) {
      ObjectNode o = (ObjectNode) ImportClient.read(observations.get(i * 7));
      o.put("status", "amended");
      put(a, o);
      if (i % 2 == 0) {
        delete(a, o);
      }
    }
    List<String> encounters = Fixtures.ndjson(Fixtures.small(), "Encounter");
    for (int i = 0; i < 5; i++) {
      delete(a, (ObjectNode) ImportClient.read(encounters.get(i * 3)));
    }
    // deleted, then created again and changed: a history of four versions, the second a deletion
    ObjectNode condition = (ObjectNode) ImportClient.read(Fixtures.ndjson(Fixtures.small(), "Condition").getFirst());
    delete(a, condition);
    put(a, condition);
    condition.putArray("note").addObject().put("text", "created again");
    put(a, condition);
  }

  private static void put(TestServer s, ObjectNode resource) {
    HttpResponse<String> r = s.put(resource.get("resourceType").asText() + "/" + resource.get("id").asText(),
        resource.toString());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  private static void delete(TestServer s, ObjectNode resource) {
    HttpResponse<String> r = s.delete(resource.get("resourceType").asText() + "/" + resource.get("id").asText());
    assertThat(r.statusCode()).as(r.body()).isIn(200, 204);
  }

  @Test
  void incremental_load_of_an_export_with_history_and_deleted_rebuilds_the_server_exactly() throws IOException {
    roundTrip("IncrementalLoad");
  }

  @Test
  void initial_load_of_an_export_with_history_and_deleted_rebuilds_the_server_exactly() throws IOException {
    roundTrip("InitialLoad");
  }

  private void roundTrip(String mode) throws IOException {
    assertThat(exportOfA.keySet()).anyMatch(n -> n.contains("-history-")).anyMatch(n -> n.contains("-deleted-"));
    try (TestServer b = TestServer.startFresh()) {
      // every file of A's export, each an input of one import
      List<String> inputs = new ArrayList<>();
      for (var file : exportOfA.entrySet()) {
        Path to = b.dataDir().resolve("imports/from-a").resolve(file.getKey());
        Files.createDirectories(to.getParent());
        Files.writeString(to, String.join("\n", file.getValue()) + "\n", StandardCharsets.UTF_8);
        Matcher m = FILE.matcher(file.getKey());
        assertThat(m.matches()).as(file.getKey()).isTrue();
        inputs.add("from-a/" + file.getKey());
        inputs.add(m.group(1));
      }
      JsonNode result = new ImportClient(b).run(ImportClient.request(mode, inputs.toArray(String[]::new)));
      assertThat(result.get("error")).as(result.toString()).isEmpty();
      long lines = exportOfA.values().stream().mapToLong(List::size).sum();
      assertThat(ImportClient.imported(result)).isEqualTo(lines);

      for (String resource : resources) {
        // every version (content, versionId, lastUpdated) and the deletions, newest first
        assertThat(history(b, resource + "/_history")).as(resource).isEqualTo(history(a, resource + "/_history"));
        HttpResponse<String> onA = a.get(resource);
        HttpResponse<String> onB = b.get(resource);
        assertThat(onB.statusCode()).as(resource).isEqualTo(onA.statusCode()).isIn(200, 410);
        if (onA.statusCode() == 200) {
          assertThat(onB.body()).as(resource).isEqualTo(onA.body());
        }
      }
      for (String type : new TreeSet<>(resources.stream().map(r -> r.substring(0, r.indexOf('/'))).toList())) {
        assertThat(typeHistory(b, type)).as(type).isEqualTo(typeHistory(a, type));
      }
      // a second export, of B: the same lines in files of the same kinds
      assertThat(byKind(export(b))).isEqualTo(byKind(exportOfA));
    }
  }

  /** A history bundle's entries, with the server's base cut from their URLs. */
  private static List<String> history(TestServer s, String path) {
    List<String> entries = new ArrayList<>();
    String next = path + (path.contains("?") ? "&" : "?") + "_count=1000";
    while (next != null) {
      HttpResponse<String> r = s.get(next);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
      JsonNode bundle = ImportClient.read(r.body());
      for (JsonNode e : bundle.path("entry")) {
        entries.add(e.toString().replace(s.base(), "[base]"));
      }
      next = null;
      for (JsonNode link : bundle.path("link")) {
        if (link.get("relation").asText().equals("next")) {
          next = link.get("url").asText();
        }
      }
    }
    return entries;
  }

  /**
   * A type's history: the same entries, newest first. Versions stamped in the same millisecond
   * (a batch of the load) come in the order of their internal keys, which differ between two
   * servers, so each millisecond's entries are compared as a set.
   */
  private static List<String> typeHistory(TestServer s, String type) {
    List<String> entries = history(s, type + "/_history");
    TreeMap<java.time.Instant, TreeSet<String>> byTime = new TreeMap<>(java.util.Comparator.reverseOrder());
    java.time.Instant previous = null;
    for (String e : entries) {
      // compared as instants: a time on a whole second is written without its fraction ("...:27Z")
      java.time.Instant at = java.time.Instant.parse(ImportClient.read(e).get("response").get("lastModified").asText());
      assertThat(previous == null || !at.isAfter(previous)).as("newest first: " + at).isTrue();
      previous = at;
      byTime.computeIfAbsent(at, k -> new TreeSet<>()).add(e);
    }
    List<String> ordered = new ArrayList<>();
    byTime.values().forEach(ordered::addAll);
    return ordered;
  }

  /** Lines by resource type and kind of file (current, history, deleted), sorted: file splits follow internal keys. */
  private static Map<String, List<String>> byKind(Map<String, List<String>> files) {
    Map<String, List<String>> kinds = new TreeMap<>();
    files.forEach((name, lines) -> {
      Matcher m = FILE.matcher(name);
      assertThat(m.matches()).as(name).isTrue();
      kinds.computeIfAbsent(m.group(1) + (m.group(2) == null ? "" : m.group(2)), k -> new ArrayList<>()).addAll(lines);
    });
    kinds.values().forEach(l -> l.sort(null));
    return kinds;
  }

  /** A system-level export with {@code _history,_deleted}: file name to lines. */
  private static Map<String, List<String>> export(TestServer s) {
    HttpResponse<String> kick = s.get("$export?includeAssociatedData=_history,_deleted", ASYNC);
    assertThat(kick.statusCode()).as(kick.body()).isEqualTo(202);
    String status = kick.headers().firstValue("Content-Location").orElseThrow();
    long deadline = System.nanoTime() + 120_000_000_000L;
    HttpResponse<String> done = s.get(status);
    while (done.statusCode() == 202) {
      assertThat(System.nanoTime()).as("export finished in time").isLessThan(deadline);
      sleep();
      done = s.get(status);
    }
    assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
    JsonNode manifest = ImportClient.read(done.body());
    assertThat(manifest.get("error")).as(done.body()).isEmpty();
    Map<String, List<String>> files = new TreeMap<>();
    for (JsonNode f : manifest.get("output")) {
      String url = f.get("url").asText();
      HttpResponse<String> r = s.get(url);
      assertThat(r.statusCode()).as(url).isEqualTo(200);
      List<String> lines = r.body().lines().filter(l -> !l.isBlank()).toList();
      assertThat((long) lines.size()).as(url).isEqualTo(f.get("count").asLong());
      files.put(url.substring(url.lastIndexOf('/') + 1), lines);
    }
    return files;
  }

  private static void sleep() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

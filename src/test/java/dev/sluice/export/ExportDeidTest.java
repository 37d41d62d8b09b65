package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.deid.AnonymizationConfig;
import dev.sluice.fhir.FhirModel;
import dev.sluice.store.ExportJobTable;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.LocalDate;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * De-identified exports of the small Synthea population with the HIPAA Safe Harbor sample, its
 * keys fixed and {@code dateShiftScope: patient}. The reference offsets range over -50..+50 days
 * including 0, so "no exact date" is asserted honestly: the test computes each patient's offset
 * from the key (none of the 10 is 0 for this key, checked first), and every full date of every
 * resource in a patient's compartment must be the source date moved by exactly that offset.
 */
class ExportDeidTest {
  private static final ExportClient client = ExportFixture.client();
  private static final String CONFIG = "deid-safe-harbor-patient.json";
  private static final byte[] CONFIG_BYTES = DeidConfigFiles.safeHarbor("patient");
  private static final String DEID = "_container=deid-e2e&_anonymizationConfig=" + CONFIG;
  private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}.*");
  private static final String FAILING_RULES = """
      {"processingErrors": "%s", "fhirPathRules": [
        {"path": "Patient.address", "method": "generalize", "cases": {"true": "'x'"}},
        {"path": "Resource.id", "method": "cryptoHash"}],
       "parameters": {"cryptoHashKey": "%s"}}""";

  @BeforeAll
  static void configurations() {
    DeidConfigFiles.put(client, CONFIG, CONFIG_BYTES);
    DeidConfigFiles.put(client, "deid-skip.json",
        FAILING_RULES.formatted("skip", DeidConfigFiles.CRYPTO_HASH_KEY).getBytes(StandardCharsets.UTF_8));
    DeidConfigFiles.put(client, "deid-raise.json",
        FAILING_RULES.formatted("raise", DeidConfigFiles.CRYPTO_HASH_KEY).getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void system_export_leaves_no_name_identifier_address_or_exact_date_and_shifts_each_patient_by_one_offset() {
    Map<String, List<String>> loaded = ExportFixture.loaded();
    JsonNode m = client.manifest("$export?_type=" + String.join(",", loaded.keySet()) + "&" + DEID);

    assertThat(m.get("extension").get("anonymization").get("config").asText()).isEqualTo(CONFIG);
    assertThat(m.get("extension").get("anonymization").get("sha256").asText()).isEqualTo(sha256(CONFIG_BYTES));
    Map<String, Long> expected = new HashMap<>();
    loaded.forEach((type, lines) -> expected.put(type, (long) lines.size()));
    assertThat(ExportClient.counts(m)).isEqualTo(expected);

    Set<String> secrets = new HashSet<>();
    Map<String, Integer> offsets = new HashMap<>();
    for (String line : loaded.get("Patient")) {
      JsonNode p = ExportClient.read(line);
      p.path("name").forEach(n -> {
        secrets.add(n.path("family").asText());
        n.path("given").forEach(g -> secrets.add(g.asText()));
      });
      p.path("identifier").forEach(i -> secrets.add(i.path("value").asText()));
      p.path("telecom").forEach(t -> secrets.add(t.path("value").asText()));
      p.path("address").forEach(a -> {
        a.path("line").forEach(l -> secrets.add(l.asText()));
        secrets.add(a.path("city").asText());
      });
      secrets.add(p.get("id").asText());
      offsets.put(p.get("id").asText(), offset(p.get("id").asText()));
    }
    secrets.removeIf(s -> s.length() < 4);
    assertThat(offsets.values()).as("the key gives no patient a zero offset").doesNotContain(0);

    Map<String, JsonNode> sources = new HashMap<>();
    loaded.forEach((type, lines) -> lines.forEach(l -> sources.put(type + "/" + pseudonym(ExportClient.id(l)),
        ExportClient.read(l))));
    int datesChecked = 0;
    for (String type : loaded.keySet()) {
      for (String line : client.lines(m, "output", type)) {
        for (String secret : secrets) {
          assertThat(line).as(type).doesNotContain(secret);
        }
        JsonNode out = ExportClient.read(line);
        JsonNode source = sources.get(type + "/" + out.get("id").asText());
        assertThat(source).as("output ids are the pseudonyms of the source ids").isNotNull();
        String patient = type.equals("Patient") ? source.get("id").asText() : subject(source);
        if (patient != null) {
          datesChecked += assertShifted(source, out, offsets.get(patient), type);
        }
      }
    }
    assertThat(datesChecked).as("full dates compared").isGreaterThan(2_000);
  }

  @Test
  void patient_and_group_exports_with_type_filter_are_de_identified() {
    String first = ExportClient.id(ExportFixture.loaded().get("Patient").getFirst());
    client.put("Group/deid-g", "{\"resourceType\":\"Group\",\"id\":\"deid-g\",\"type\":\"person\",\"actual\":true,"
        + "\"member\":[{\"entity\":{\"reference\":\"Patient/" + first + "\"}}]}");
    JsonNode group = client.manifest("Group/deid-g/$export?_type=Patient,Encounter"
        + "&_typeFilter=Encounter%3Fstatus%3Dfinished&" + DEID);
    assertThat(client.lines(group, "output", "Patient")).singleElement()
        .satisfies(l -> assertThat(ExportClient.id(l)).isEqualTo(pseudonym(first)));
    List<String> encounters = client.lines(group, "output", "Encounter");
    assertThat(encounters).isNotEmpty().allSatisfy(l ->
        assertThat(ExportClient.read(l).get("subject").get("reference").asText()).isEqualTo("Patient/" + pseudonym(first)));

    JsonNode all = client.manifest("Patient/$export?_type=Patient&" + DEID);
    Set<String> expected = new HashSet<>();
    ExportFixture.loaded().get("Patient").forEach(l -> expected.add(pseudonym(ExportClient.id(l))));
    Set<String> ids = new HashSet<>();
    client.lines(all, "output", "Patient").forEach(l -> ids.add(ExportClient.id(l)));
    assertThat(ids).isEqualTo(expected);
  }

  // a de-identified resource costs the worker about ten times a copied one: with parts of the plain size, the last
  // part of an export ran alone on one of the two workers for seconds (bench/README.md, "De-identified export")
  @Test
  void a_de_identified_export_cuts_a_type_into_smaller_parts_than_a_plain_one() throws Exception {
    String plain = client.start("$export?_type=Observation&_container=deid-parts-plain");
    String deid = client.start("$export?_type=Observation&" + DEID.replace("deid-e2e", "deid-parts"));
    assertThat(client.await(plain).statusCode()).isEqualTo(200);
    assertThat(client.await(deid).statusCode()).isEqualTo(200);
    long plainParts = resourceParts(plain);
    long deidParts = resourceParts(deid);
    assertThat(plainParts).as("the fixture's Observations span several plain parts").isGreaterThan(1);
    assertThat(deidParts).as("parts of a de-identified export").isGreaterThanOrEqualTo(3 * plainParts);
  }

  private static long resourceParts(String status) throws Exception {
    java.util.UUID job = java.util.UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
    try (java.sql.Connection c = ExportFixture.app().dataSource().getConnection();
        java.sql.PreparedStatement ps = c.prepareStatement(
            "select count(*) from export_part where job_id = ? and kind = 'resources'")) {
      ps.setObject(1, job);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  @Test
  void under_skip_a_failing_resource_is_left_out_and_reported_by_pseudonym() {
    JsonNode m = client.manifest("$export?_type=Patient,Organization&_container=deid-skip"
        + "&_anonymizationConfig=deid-skip.json");
    assertThat(ExportClient.counts(m)).containsEntry("Organization",
        (long) ExportFixture.loaded().get("Organization").size()).doesNotContainKey("Patient");
    List<String> errors = client.lines(m, "error", "OperationOutcome");
    assertThat(errors).hasSize(ExportFixture.loaded().get("Patient").size());
    for (String line : ExportFixture.loaded().get("Patient")) {
      String id = ExportClient.id(line);
      assertThat(errors).noneMatch(e -> e.contains(id))
          .anyMatch(e -> e.contains("A Patient (pseudonym " + pseudonym(id) + ") could not be de-identified"));
    }
  }

  @Test
  void empty_crypto_hash_and_date_shift_keys_are_reported_as_warnings_in_the_manifest() throws Exception {
    ObjectNode random = (ObjectNode) ExportClient.JSON.readTree(CONFIG_BYTES);
    ((ObjectNode) random.get("parameters")).put("cryptoHashKey", "").remove("dateShiftKey");
    DeidConfigFiles.put(client, "deid-random-keys.json", ExportClient.JSON.writeValueAsBytes(random));
    JsonNode m = client.manifest("$export?_type=Patient&_container=deid-random&_anonymizationConfig=deid-random-keys.json");
    assertThat(ExportClient.counts(m)).containsEntry("Patient", (long) ExportFixture.loaded().get("Patient").size());
    List<String> warnings = client.lines(m, "error", "OperationOutcome");
    assertThat(warnings).hasSize(2).allSatisfy(w -> assertThat(ExportClient.read(w).at("/issue/0/severity").asText())
        .isEqualTo("warning"));
    assertThat(String.join("\n", warnings)).contains("leaves cryptoHashKey empty").contains("leaves dateShiftKey empty")
        .contains("deid-random-keys.json");
    // with both keys set: no warning
    JsonNode keyed = client.manifest("$export?_type=Patient&" + DEID);
    assertThat(keyed.get("error")).isEmpty();
  }

  @Test
  void under_raise_a_failing_resource_fails_the_export_with_an_operation_outcome() {
    HttpResponse<String> r = client.await(client.start("$export?_type=Patient&_container=deid-raise"
        + "&_anonymizationConfig=deid-raise.json"));
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("OperationOutcome").contains("could not be de-identified (processingErrors: raise)")
        .contains("generalize");
  }

  @Test
  void pseudonyms_and_patient_offsets_stay_the_same_across_a_since_chain_and_deletions_are_named_by_pseudonym() {
    String patient = ExportClient.id(ExportFixture.loaded().get("Patient").getFirst());
    String basic = "{\"resourceType\":\"Basic\",\"id\":\"deid-chain-1\",\"code\":{\"text\":\"x\"},"
        + "\"subject\":{\"reference\":\"Patient/" + patient + "\"},\"created\":\"%s\"}";
    client.put("Basic/deid-chain-1", basic.formatted("2020-05-01"));
    client.put("Basic/deid-chain-gone", basic.formatted("2020-05-02").replace("deid-chain-1", "deid-chain-gone"));
    String query = "$export?_type=Basic&_typeFilter=Basic%3F_id%3Ddeid-chain-1&" + DEID;
    JsonNode first = client.manifest(query);
    client.put("Basic/deid-chain-1", basic.formatted("2021-07-15"));
    client.delete("Basic/deid-chain-gone");
    JsonNode second = client.manifest(query + "&_since=" + first.get("transactionTime").asText());
    String deleted = String.join("\n", client.lines(second, "deleted", "Bundle"));
    assertThat(deleted).contains("Basic/" + pseudonym("deid-chain-gone")).doesNotContain("deid-chain-gone");

    JsonNode before = ExportClient.read(client.lines(first, "output", "Basic").getFirst());
    JsonNode after = ExportClient.read(client.lines(second, "output", "Basic").getFirst());
    assertThat(after.get("id").asText()).isEqualTo(before.get("id").asText()).isEqualTo(pseudonym("deid-chain-1"));
    assertThat(after.get("subject").get("reference").asText()).isEqualTo(before.get("subject").get("reference").asText())
        .isEqualTo("Patient/" + pseudonym(patient));
    assertThat(after.get("created").asText()).isEqualTo(LocalDate.parse("2021-07-15").plusDays(offset(patient)).toString());
  }

  @Test
  void a_job_applies_the_configuration_validated_at_kick_off_even_when_the_file_changes_or_another_process_runs_it() {
    DeidConfigFiles.put(client, "deid-swap.json", DeidConfigFiles.safeHarbor("resource"));
    String status = client.start("$export?_type=Organization&_container=deid-swap&_anonymizationConfig=deid-swap.json");
    DeidConfigFiles.put(client, "deid-swap.json", DeidConfigFiles.safeHarbor("file"));
    JsonNode m = ExportClient.read(client.await(status).body());
    String sha = sha256(DeidConfigFiles.safeHarbor("resource"));
    assertThat(m.get("extension").get("anonymization").get("sha256").asText()).isEqualTo(sha);

    // a process that never saw the kick-off builds the same anonymizer from the job row
    var app = ExportFixture.app();
    ExportJobTable jobs = new ExportJobTable(app.dataSource());
    var fresh = new AnonymizationConfigs(new FhirModel(), new LocalOutputStore(client.server().dataDir().resolve("exports")),
        jobs);
    UUID job = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
    try {
      Anonymization kept = ExportRequest.fromJson(jobs.find(job).orElseThrow().requestJson()).anonymization();
      assertThat(kept.sha256()).isEqualTo(sha);
      // the configuration as read, with the keys it leaves empty chosen for this job
      var applied = fresh.of(job, kept).config();
      assertThat(applied.sha256()).isEqualTo(kept.applied());
      assertThat(applied.rules()).hasSameSizeAs(AnonymizationConfig.parse(DeidConfigFiles.safeHarbor("resource")).rules());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void a_random_key_is_chosen_once_per_job_so_every_process_and_restart_makes_the_same_pseudonyms() throws Exception {
    ObjectNode random = (ObjectNode) ExportClient.JSON.readTree(CONFIG_BYTES);
    ((ObjectNode) random.get("parameters")).put("cryptoHashKey", "");
    DeidConfigFiles.put(client, "deid-job-key.json", ExportClient.JSON.writeValueAsBytes(random));
    String status = client.start("$export?_type=Patient&_container=deid-job-key&_anonymizationConfig=deid-job-key.json");
    JsonNode m = ExportClient.read(client.await(status).body());
    Set<String> written = new HashSet<>();
    client.lines(m, "output", "Patient").forEach(l -> written.add(ExportClient.id(l)));
    assertThat(m.get("extension").get("anonymization").get("sha256").asText())
        .as("the manifest names the configuration as read, not as the job completed it")
        .isEqualTo(sha256(ExportClient.JSON.writeValueAsBytes(random)));

    // a process that never saw the kick-off (another server on the database, or this one restarted)
    var app = ExportFixture.app();
    ExportJobTable jobs = new ExportJobTable(app.dataSource());
    var fresh = new AnonymizationConfigs(new FhirModel(), new LocalOutputStore(client.server().dataDir().resolve("exports")),
        jobs);
    UUID job = UUID.fromString(status.substring(status.lastIndexOf('/') + 1));
    Anonymization asKickedOff = ExportRequest.fromJson(jobs.find(job).orElseThrow().requestJson()).anonymization();
    var anonymizer = fresh.of(job, asKickedOff);

    for (String line : ExportFixture.loaded().get("Patient")) {
      assertThat(written).contains(anonymizer.pseudonym(ExportClient.id(line)));
    }
    // and another export of the same configuration gets a key of its own
    JsonNode other = client.manifest("$export?_type=Patient&_container=deid-job-key-2&_anonymizationConfig=deid-job-key.json");
    assertThat(client.lines(other, "output", "Patient").stream().map(ExportClient::id)).doesNotContainAnyElementsOf(written);
  }

  /** Every full date of the source at the same place in the output moved by {@code offset} days; returns how many. */
  private static int assertShifted(JsonNode source, JsonNode out, int offset, String where) {
    int checked = 0;
    if (source.isTextual() && DATE.matcher(source.asText()).matches()) {
      if (out != null && out.isTextual() && DATE.matcher(out.asText()).matches()) {
        LocalDate from = LocalDate.parse(source.asText().substring(0, 10));
        assertThat(out.asText().substring(0, 10)).as(where).isEqualTo(from.plusDays(offset).toString());
        checked++;
      }
      return checked;
    }
    if (out == null) {
      return 0;
    }
    if (source.isArray()) {
      for (int i = 0; i < source.size(); i++) {
        checked += assertShifted(source.get(i), out.get(i), offset, where + "[" + i + "]");
      }
    } else if (source.isObject()) {
      for (Iterator<String> names = source.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        checked += assertShifted(source.get(name), out.get(name), offset, where + "." + name);
      }
    }
    return checked;
  }

  private static String subject(JsonNode source) {
    for (String field : new String[] {"subject", "patient", "beneficiary"}) {
      String ref = source.path(field).path("reference").asText();
      if (ref.startsWith("Patient/")) {
        return ref.substring("Patient/".length());
      }
    }
    return null;
  }

  /** The reference date-shift offset for a patient with the test's key. */
  private static int offset(String patientId) {
    int o = 0;
    for (byte b : (patientId + DeidConfigFiles.DATE_SHIFT_KEY).getBytes(StandardCharsets.UTF_8)) {
      o = (o * 131 + (b & 0xff)) % 101;
    }
    return o - 50;
  }

  private static String pseudonym(String value) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(DeidConfigFiles.CRYPTO_HASH_KEY.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return java.util.HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

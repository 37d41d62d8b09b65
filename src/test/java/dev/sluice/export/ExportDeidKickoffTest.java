package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Everything wrong with a de-identified export's parameters or configuration is refused at kick-off. */
class ExportDeidKickoffTest {
  private static final ExportClient client = ExportFixture.client();

  @BeforeAll
  static void configurations() {
    DeidConfigFiles.put(client, "kick-safe-harbor.json", DeidConfigFiles.safeHarbor("resource"));
    DeidConfigFiles.put(client, "kick-bad-json.json", "{\"fhirPathRules\": [".getBytes(StandardCharsets.UTF_8));
    for (String name : new String[] {"configuration-unsupported-method.json", "configuration-invalid-fhirpath.json",
        "configuration-invalid-encryptkey.json", "configuration-perturb-miss-span.json"}) {
      DeidConfigFiles.put(client, name, DeidConfigFiles.reference(name));
    }
  }

  private static void assertRefused(HttpResponse<String> r, int status, String... mentions) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains("OperationOutcome").contains(mentions);
  }

  @Test
  void a_configuration_without_container_is_refused() {
    assertRefused(client.kickOff("$export?_anonymizationConfig=kick-safe-harbor.json"), 400, "_container");
  }

  @Test
  void an_etag_without_configuration_is_refused() {
    assertRefused(client.kickOff("$export?_container=deid-kick&_anonymizationConfigEtag=%22abc%22"), 400,
        "_anonymizationConfigEtag needs _anonymizationConfig");
  }

  @Test
  void a_configuration_name_that_leaves_the_container_is_refused() {
    assertRefused(client.kickOff("$export?_container=deid-kick&_anonymizationConfig=../kick-safe-harbor.json"), 400,
        "is not a file name");
  }

  @Test
  void a_missing_configuration_is_refused_naming_where_it_was_looked_for() {
    assertRefused(client.kickOff("$export?_container=deid-kick&_anonymizationConfig=no-such.json"), 400,
        "There is no anonymization configuration 'no-such.json' at "
            + client.server().dataDir().resolve("exports/anonymization/no-such.json").toAbsolutePath());
  }

  @Test
  void an_etag_mismatch_answers_412_and_the_right_etag_with_or_without_quotes_is_accepted() {
    String etag = LocalOutputStore.etag(DeidConfigFiles.safeHarbor("resource"));
    assertRefused(client.kickOff("$export?_type=Organization&_container=deid-kick"
        + "&_anonymizationConfig=kick-safe-harbor.json&_anonymizationConfigEtag=%22deadbeef%22"), 412,
        "does not have the ETag", "_anonymizationConfigEtag");
    assertThat(client.kickOff("$export?_type=Organization&_container=deid-kick"
        + "&_anonymizationConfig=kick-safe-harbor.json&_anonymizationConfigEtag=" + etag.replace("\"", "%22"))
        .statusCode()).isEqualTo(202);
    assertThat(client.kickOff("$export?_type=Practitioner&_container=deid-kick"
        + "&_anonymizationConfig=kick-safe-harbor.json&_anonymizationConfigEtag=" + etag.replace("\"", ""))
        .statusCode()).isEqualTo(202);
  }

  @Test
  void a_configuration_that_is_not_json_is_refused() {
    assertRefused(client.kickOff("$export?_container=deid-kick&_anonymizationConfig=kick-bad-json.json"), 400,
        "'kick-bad-json.json' is invalid");
  }

  @Test
  void an_unknown_method_is_refused_naming_the_rule() {
    assertRefused(client.kickOff("$export?_container=deid-kick"
        + "&_anonymizationConfig=configuration-unsupported-method.json"), 400, "fhirPathRules[");
  }

  @Test
  void a_fhirpath_that_does_not_compile_is_refused_naming_the_rule() {
    assertRefused(client.kickOff("Patient/$export?_container=deid-kick"
        + "&_anonymizationConfig=configuration-invalid-fhirpath.json"), 400, "fhirPathRules[");
  }

  @Test
  void an_encrypt_key_of_the_wrong_size_is_refused() {
    assertRefused(client.kickOff("$export?_container=deid-kick"
        + "&_anonymizationConfig=configuration-invalid-encryptkey.json"), 400, "encryptKey");
  }

  @Test
  void a_method_missing_a_setting_is_refused_naming_the_rule() {
    assertRefused(client.kickOff("$export?_container=deid-kick"
        + "&_anonymizationConfig=configuration-perturb-miss-span.json"), 400, "fhirPathRules[", "span");
  }
}

package dev.sluice.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class StoredJsonTest {
  private static String stamp(String json) {
    return new String(StoredJson.stamp(json.getBytes(StandardCharsets.UTF_8), "Observation", "o1", "3",
        "2024-01-02T03:04:05.678+00:00"), StandardCharsets.UTF_8);
  }

  @Test
  void puts_type_id_and_meta_first_and_keeps_the_clients_tags_and_profiles() {
    String out = stamp("""
        { "status": "final", "meta": {"versionId": "9", "lastUpdated": "2000-01-01T00:00:00Z",
          "tag": [{"code": "t"}], "profile": ["http://p"]}, "id": "other", "resourceType": "Observation" }""");
    assertThat(out).isEqualTo("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"3\","
        + "\"lastUpdated\":\"2024-01-02T03:04:05.678+00:00\",\"tag\":[{\"code\":\"t\"}],\"profile\":[\"http://p\"]},"
        + "\"status\":\"final\"}");
  }

  @Test
  void keeps_decimals_exactly_as_written_and_minifies() {
    String out = stamp("{\"resourceType\":\"Observation\",\n \"valueQuantity\": {\"value\": 1.50, \"unit\": \"é\"}}");
    assertThat(out).endsWith(",\"valueQuantity\":{\"value\":1.50,\"unit\":\"é\"}}");
  }

  @Test
  void a_resource_with_nothing_but_its_type_gets_id_and_meta() {
    assertThat(stamp("{\"resourceType\":\"Observation\"}")).isEqualTo("{\"resourceType\":\"Observation\",\"id\":\"o1\","
        + "\"meta\":{\"versionId\":\"3\",\"lastUpdated\":\"2024-01-02T03:04:05.678+00:00\"}}");
  }

  @Test
  void compact_json_is_spliced_with_the_same_result_as_the_token_copy() {
    String compact = "{\"status\":\"final\",\"meta\":{\"versionId\":\"9\",\"tag\":[{\"code\":\"t,}\"}],"
        + "\"lastUpdated\":\"2000-01-01T00:00:00Z\",\"source\":\"a\\\"b\"},\"id\":\"other\",\"resourceType\":\"Observation\","
        + "\"valueQuantity\":{\"value\":1.50e0,\"unit\":\"\\u00e9 x\"},\"note\":[{\"text\":\"{\\\"}\"}]}";
    assertThat(StoredJson.splice(compact.getBytes(StandardCharsets.UTF_8), "Observation", "o1", "3",
        "2024-01-02T03:04:05.678+00:00")).isNotNull();
    assertThat(stamp(compact)).isEqualTo("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"3\","
        + "\"lastUpdated\":\"2024-01-02T03:04:05.678+00:00\",\"tag\":[{\"code\":\"t,}\"}],\"source\":\"a\\\"b\"},"
        + "\"status\":\"final\",\"valueQuantity\":{\"value\":1.50e0,\"unit\":\"\\u00e9 x\"},\"note\":[{\"text\":\"{\\\"}\"}]}");
  }

  @Test
  void a_space_outside_strings_or_an_escaped_name_leaves_the_work_to_the_token_copy() {
    assertThat(splice("{\"a\":\"x y\\\" z\"}")).isNotNull();
    assertThat(splice("{\"a\": 1}")).isNull();
    assertThat(splice("{\"a\":[1, 2]}")).isNull();
    assertThat(splice("{\"m\\u0065ta\":{}}")).isNull();
    assertThat(splice("{\"a\":1}x")).isNull();
    assertThat(splice("{\"a\":1")).isNull();
    assertThat(stamp("{\"m\\u0065ta\":{\"tag\":[{\"code\":\"t\"}]},\"resourceType\":\"Observation\"}"))
        .isEqualTo("{\"resourceType\":\"Observation\",\"id\":\"o1\",\"meta\":{\"versionId\":\"3\","
            + "\"lastUpdated\":\"2024-01-02T03:04:05.678+00:00\",\"tag\":[{\"code\":\"t\"}]}}");
  }

  @Test
  void nested_values_of_every_kind_are_copied_whole() {
    String compact = "{\"resourceType\":\"Observation\",\"a\":[],\"b\":{},\"c\":[[1,{\"d\":[true,false,null]}],-0.5e-3],"
        + "\"e\":\"\\\\\",\"f\":\"]}\"}";
    assertThat(stamp(compact)).endsWith("}," + compact.substring(compact.indexOf("\"a\"")));
    assertThat(stamp(compact)).isEqualTo(stamp(compact.replace(",", ", ")));
  }

  @Test
  void a_key_given_twice_is_refused_by_the_token_copy() {
    // compact JSON reaches the stamp only after the strict parse, which refuses it (BadInputTest)
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> stamp("{\"a\":1, \"a\":2}"))
        .isInstanceOf(FhirException.class).hasMessageContaining("Duplicate field 'a'");
  }

  private static byte[] splice(String json) {
    return StoredJson.splice(json.getBytes(StandardCharsets.UTF_8), "Observation", "o1", "3", "2024-01-02T03:04:05.678+00:00");
  }
}

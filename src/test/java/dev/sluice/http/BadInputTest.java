package dev.sluice.http;

import static dev.sluice.testing.Outcomes.assertOutcome;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sluice.testing.RawHttp;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every kind of bad input gets a 4xx OperationOutcome that names the problem; nothing is stored. */
class BadInputTest {
  private final TestServer server = TestServer.shared();

  @Test
  void malformed_json_answers_400() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[}"), 400, "Invalid JSON");
  }

  /** Each body: a value whose JSON type is not its FHIR type's, and the element the answer names. */
  @ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"active\":\"true\"} | Patient.active",
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"multipleBirthInteger\":\"3\"} | Patient.multipleBirthInteger",
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"name\":[{\"family\":123}]} | Patient.name[0].family",
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"extension\":[{\"url\":\"http://x.test/e\",\"valueBoolean\":\"false\"}]}"
          + " | Patient.extension[0].valueBoolean",
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\","
          + "\"active\":\"false\"}],\"managingOrganization\":{\"reference\":\"#o\"}} | Patient.contained[0].active",
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"birthDate\":\"1980-01-01\",\"_birthDate\":{\"extension\":[{\"url\":"
          + "\"http://x.test/e\",\"valueInteger\":\"5\"}]}} | Patient._birthDate.extension[0].valueInteger",
      "{\"resourceType\":\"Patient\",\"id\":\"jt\",\"text\":{\"status\":\"generated\",\"div\":true}} | Patient.text.div"})
  void a_value_of_the_wrong_json_type_answers_400_naming_it_and_nothing_is_stored(String body, String element) {
    assertOutcome(server.put("Patient/jt", body), 400, element, "JSON");
    assertThat(server.get("Patient/jt").statusCode()).isEqualTo(404);
  }

  @Test
  void values_of_their_own_json_types_are_taken() {
    HttpResponse<String> r = server.put("Patient/jt-ok", "{\"resourceType\":\"Patient\",\"id\":\"jt-ok\",\"active\":true,"
        + "\"multipleBirthInteger\":3,\"name\":[{\"family\":\"Ok\",\"given\":[\"A\",null],\"_given\":[null,"
        + "{\"extension\":[{\"url\":\"http://x.test/e\",\"valueDecimal\":1.5}]}]}],"
        + "\"contained\":[{\"resourceType\":\"Organization\",\"id\":\"o\",\"active\":false}],"
        + "\"managingOrganization\":{\"reference\":\"#o\"}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
  }

  @Test
  void malformed_json_bundle_answers_400_with_the_position() {
    assertOutcome(server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{]}"), 400,
        "Invalid JSON", "column");
  }

  @Test
  void unknown_resource_type_in_the_url_answers_404_naming_it() {
    assertOutcome(server.post("Unicorn", "{\"resourceType\":\"Unicorn\"}"), 404, "Unicorn");
  }

  @Test
  void unknown_resource_type_in_the_body_answers_400_naming_it() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Unicorn\"}"), 400, "Unicorn");
  }

  @Test
  void body_type_other_than_the_url_type_answers_400() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{}}"), 400,
        "Observation", "Patient");
  }

  @Test
  void body_id_other_than_the_url_id_answers_400_and_stores_nothing() {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"other\"}"), 400, "other", id);
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void invalid_id_answers_400_naming_it() {
    assertOutcome(server.put("Patient/bad_id!", "{\"resourceType\":\"Patient\",\"id\":\"bad_id!\"}"), 400, "bad_id!");
    String tooLong = "a".repeat(65);
    assertOutcome(server.get("Patient/" + tooLong), 400, tooLong);
  }

  @Test
  void unknown_element_answers_400_naming_it() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"favouriteColour\":\"blue\"}"), 400,
        "favouriteColour");
  }

  @Test
  void invalid_value_answers_400_naming_it() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"birthDate\":\"31/12/1999\"}"), 400,
        "31/12/1999");
  }

  @Test
  void an_element_given_twice_answers_400_naming_it() {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("Patient/" + id,
        "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\",\"gender\":\"female\"}"), 400,
        "Duplicate field 'gender'");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void wrong_content_type_answers_415() {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\"}", "Content-Type", "application/x-www-form-urlencoded"),
        415, "Content-Type");
  }

  @Test
  void empty_body_answers_400() {
    assertOutcome(server.post("Patient", ""), 400, "empty");
  }

  @Test
  void body_over_the_size_limit_answers_413_naming_the_setting() {
    String big = "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + "x".repeat(9 * 1024 * 1024) + "\"}]}";
    assertOutcome(server.post("Patient", big), 413, "--max-body-size");
  }

  @Test
  void unknown_route_answers_404_outcome() {
    assertOutcome(server.get("Patient/1/_history/1/extra"), 404, "OperationOutcome");
  }

  @ParameterizedTest
  @ValueSource(strings = {"bytes=99999999999999999999-", "bytes=-99999999999999999999", "bytes=0-99999999999999999999"})
  void a_byte_range_beyond_any_file_answers_416(String range) throws IOException {
    HttpResponse<String> r = server.get(exportFileUrl(), "Range", range);
    assertOutcome(r, 416, "Range");
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET /fhir/%u002e%u002e", "GET /fhir/Patient/%u0041/_history", "GET /fhir/Patient/%u0041",
      "PUT /fhir/Observation/%u002e%u002e", "DELETE /fhir/$export/%u0041", "GET /fhir/%zz", "GET /fhir/Patient/%",
      "GET /fhir/Patient/%c0%af", "GET /fhir/_operations/export/%u0041", "GET /fhir/Patient/a%00b"})
  void percent_escapes_that_decode_to_nothing_answer_400_or_404_with_an_outcome(String request) throws IOException {
    String[] parts = request.split(" ");
    byte[] body = parts[0].equals("PUT") ? "{\"resourceType\":\"Observation\"}".getBytes(StandardCharsets.UTF_8) : null;
    RawHttp.Response r = raw(RawHttp.request(parts[0], parts[1], body, "Content-Type: application/fhir+json"));
    assertThat(r.status()).as(r.text()).isIn(400, 404);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"");
  }

  @Test
  void percent_escapes_in_an_export_file_name_answer_404_with_an_outcome() throws IOException {
    String url = exportFileUrl();
    String job = url.substring(url.indexOf("/fhir/"), url.lastIndexOf('/'));
    for (String name : new String[] {"%u002e%u002e%u2215canary.txt", "%2e%2e%2fcanary.txt", "..%5c..%5ccanary.txt",
        "%u0041.ndjson"}) {
      RawHttp.Response r = raw(RawHttp.request("GET", job + "/" + name, null));
      assertThat(r.status()).as(name + ": " + r.text()).isIn(400, 404);
      assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"zz", "FFFFFFFFFFFFFFFFFF", "-1", "1;", ""})
  void a_malformed_chunk_size_answers_400_with_an_outcome(String size) throws IOException {
    byte[] head = ("POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n"
        + size + "\r\n{\"resourceType\":\"Patient\"}\r\n0\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1);
    RawHttp.Response r = raw(head);
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"");
  }

  @Test
  void a_chunked_body_over_the_size_limit_answers_413_naming_the_setting() throws IOException {
    StringBuilder body = new StringBuilder();
    String chunk = "x".repeat(64 * 1024);
    for (int i = 0; i < 9 * 16; i++) {
      body.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    body.append("0\r\n\r\n");
    byte[] request = ("POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "Content-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\n" + body)
        .getBytes(StandardCharsets.ISO_8859_1);
    RawHttp.Response r = raw(request);
    assertThat(r.status()).as(r.text()).isEqualTo(413);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"").contains("--max-body-size");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/fhir/Patient?name=%zz", "/fhir/Patient?%=1", "/fhir/Patient/_history?_count=%",
      "/fhir/$export?_type=%u0041"})
  void a_query_string_with_a_bad_escape_answers_400_with_an_outcome(String target) throws IOException {
    RawHttp.Response r = raw(RawHttp.request("GET", target, null, "Prefer: respond-async",
        "Accept: application/fhir+json"));
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {";;;", ";", ",", " , ;q=1", ";charset=utf-8"})
  void an_accept_header_without_a_media_type_gets_json(String accept) {
    HttpResponse<String> r = server.get("metadata", "Accept", accept);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("json"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"[1]", "[null]", "[[[]]]", "[\"x\"]", "[true]", "1", "{}"})
  void an_extension_that_is_not_a_list_of_objects_answers_400(String extension) {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"extension\":" + extension + "}"), 400,
        "extension");
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"extension\":" + extension
        + "}]}"), 400, "extension");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\\u0000", "\\u0001", "\\u001f"})
  void a_control_character_in_a_string_answers_400_naming_the_element(String escape) {
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"http://s\","
        + "\"value\":\"a" + escape + "b\"}]}"), 400, "Patient.identifier[0].value", "control character");
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"given\":[\"a" + escape
        + "\"]}]}"), 400, "Patient.name[0].given[0]");
  }

  @Test
  void a_batch_entry_with_a_bad_extension_fails_alone() throws IOException {
    String good = UUID.randomUUID().toString();
    String bad = UUID.randomUUID().toString();
    String body = "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + bad + "\",\"extension\":[[[]]]},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + bad + "\"}},"
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + good + "\"},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + good + "\"}}]}";
    HttpResponse<String> r = server.post("", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = new ObjectMapper().readTree(r.body()).path("entry");
    assertThat(entries.get(0).path("response").path("status").asText()).isEqualTo("400 Bad Request");
    assertThat(entries.get(0).path("response").path("outcome").toString()).contains("extension");
    assertThat(entries.get(1).path("response").path("status").asText()).isEqualTo("201 Created");
    assertThat(server.get("Patient/" + bad).statusCode()).isEqualTo(404);
  }

  @ParameterizedTest
  @ValueSource(strings = {
      "{\"resource\":{\"resourceType\":\"Patient\",\"name\":[1]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"name\":[[[[[[]]]]]]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"name\":{\"family\":1}},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"contained\":[1]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"contained\":[{\"resourceType\":1}]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Observation\",\"status\":\"final\",\"code\":{},\"valueQuantity\":[1]},\"request\":{\"method\":\"POST\",\"url\":\"Observation\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"_birthDate\":[1]},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"_gender\":1},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":1},\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}",
      "{\"resource\":{\"resourceType\":\"Patient\",\"id\":{}},\"request\":{\"method\":\"PUT\",\"url\":\"Patient/1\"}}"})
  void a_batch_entry_with_wrong_json_types_fails_alone(String entry) throws IOException {
    String good = UUID.randomUUID().toString();
    HttpResponse<String> r = server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[" + entry
        + ",{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"" + good + "\"},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + good + "\"}}]}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode entries = new ObjectMapper().readTree(r.body()).path("entry");
    assertThat(entries.get(0).path("response").path("status").asText()).as(r.body()).isEqualTo("400 Bad Request");
    assertThat(entries.get(1).path("response").path("status").asText()).isEqualTo("201 Created");
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[[[[[]]]]]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":[1]}]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":1,\"url\":2}}]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":{}}",
      "{\"resourceType\":\"Bundle\",\"type\":[],\"entry\":[]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"PUT\",\"url\":\"Patient/1\"}}]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"Patient/1/_history/99999999999\"}}]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"request\":{\"method\":\"GET\",\"url\":\"/\"}}]}",
      "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"fullUrl\":\"urn:uuid:1\",\"request\":{\"method\":\"POST\",\"url\":\"Patient\"},\"resource\":{\"resourceType\":\"Patient\",\"extension\":[1]}}]}"})
  void a_bundle_with_wrong_json_types_answers_400_for_the_bundle_or_the_entry(String bundle) {
    HttpResponse<String> r = server.post("", bundle);
    assertThat(r.statusCode()).as(r.body()).isIn(200, 400);
    assertThat(r.body()).doesNotContain("\"status\":\"5").contains("OperationOutcome");
  }

  @Test
  void a_bundle_nested_deeper_than_the_parser_allows_answers_400() {
    String deep = "[".repeat(5000) + "]".repeat(5000);
    assertOutcome(server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":" + deep + "}"), 400);
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":" + deep + "}"), 400);
    String deepObject = "{\"a\":".repeat(5000) + "1" + "}".repeat(5000);
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[" + deepObject + "]}"), 400);
    assertOutcome(server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
        + deepObject + "}]}"), 400, "nesting depth");
    String deepXml = "<a>".repeat(5000) + "</a>".repeat(5000);
    assertOutcome(server.post("Patient", "<Patient xmlns=\"http://hl7.org/fhir\">" + deepXml + "</Patient>",
        "Content-Type", "application/fhir+xml"), 400);
  }

  @ParameterizedTest
  @ValueSource(strings = {"{\"name\":\"patient\",\"valueReference\":{\"display\":\"no reference\"}}",
      "{\"name\":\"_type\",\"_valueString\":{\"id\":\"no-value\"}}",
      "{\"name\":\"_since\",\"_valueInstant\":{\"extension\":[{\"url\":\"http://example.org\",\"valueString\":\"x\"}]}}",
      "{\"valueString\":\"Patient\"}",
      "{\"name\":\"_type\"}",
      "{\"name\":\"_type\",\"part\":[{\"name\":\"x\",\"valueString\":\"y\"}]}"})
  void export_parameters_without_a_value_answer_400(String parameter) {
    HttpResponse<String> r = server.post("Patient/$export", "{\"resourceType\":\"Parameters\",\"parameter\":["
        + parameter + "]}", "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertOutcome(r, 400);
  }

  @Test
  void an_output_format_sent_unencoded_is_accepted() {
    HttpResponse<String> r = server.get("$export?_type=Organization&_outputFormat=application/fhir+ndjson",
        "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    server.delete(r.headers().firstValue("Content-Location").orElseThrow());
  }

  @ParameterizedTest
  @ValueSource(strings = {"Patient?_id=", "Patient?_id=a,,b", "Observation?subject._id="})
  void an_empty_id_value_answers_400_as_every_empty_value_does(String query) {
    assertOutcome(server.get(query), 400, "Empty value", "_id");
  }

  @Test
  void a_conditional_create_on_an_empty_id_answers_400_and_creates_nothing() {
    String family = UUID.randomUUID().toString();
    assertOutcome(server.post("Patient", "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"" + family + "\"}]}",
        "If-None-Exist", "_id="), 400, "_id");
    assertThat(server.get("Patient?family=" + family).body()).doesNotContain("\"entry\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"/fhir/Patient?name=%ff%fe", "/fhir/Patient?name=%C3%28", "/fhir/Patient?name=%C0%AF",
      "/fhir/Patient/%ED%A0%80/_history"})
  void percent_escapes_that_are_not_utf_8_answer_400_with_an_outcome(String target) throws IOException {
    RawHttp.Response r = raw(RawHttp.request("GET", target, null));
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"").contains("UTF-8");
  }

  @ParameterizedTest
  @ValueSource(strings = {"name=%zz", "name=%ff", "name=%", "_id=%C3%28"})
  void a_search_form_body_that_cannot_be_decoded_answers_400(String form) {
    assertOutcome(server.post("Patient/_search", form, "Content-Type", "application/x-www-form-urlencoded"), 400,
        "form body");
  }

  @Test
  void a_search_form_body_of_bytes_that_are_not_utf_8_answers_400() throws IOException {
    byte[] body = {'n', 'a', 'm', 'e', '=', (byte) 0xff};
    RawHttp.Response r = raw(RawHttp.request("POST", "/fhir/Patient/_search", body,
        "Content-Type: application/x-www-form-urlencoded"));
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.text()).contains("\"resourceType\":\"OperationOutcome\"").contains("UTF-8");
  }

  @Test
  void an_xml_body_of_bytes_that_are_not_utf_8_answers_400_and_stores_nothing() throws IOException {
    String family = UUID.randomUUID().toString();
    byte[] start = ("<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"" + family).getBytes(StandardCharsets.UTF_8);
    byte[] end = "\"/></name></Patient>".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[start.length + 1 + end.length];
    System.arraycopy(start, 0, body, 0, start.length);
    body[start.length] = (byte) 0xff;
    System.arraycopy(end, 0, body, start.length + 1, end.length);
    RawHttp.Response r = raw(RawHttp.request("POST", "/fhir/Patient", body, "Content-Type: application/fhir+xml"));
    assertThat(r.status()).as(r.text()).isEqualTo(400);
    assertThat(r.text()).contains("UTF-8");
    assertThat(server.get("Patient?family:contains=" + family).body()).doesNotContain("\"entry\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"gender\":null", "\"name\":null", "\"meta\":null", "\"name\":[null,{\"family\":\"x\"}]",
      "\"name\":[{\"given\":[\"a\",null]}]", "\"name\":[{\"given\":[\"a\",null],\"_given\":[{\"id\":\"x\"},null]}]",
      "\"name\":[{\"_given\":[null]}]"})
  void a_json_null_answers_400_and_stores_nothing(String element) {
    String id = UUID.randomUUID().toString();
    assertOutcome(server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"," + element + "}"), 400,
        "null");
    assertThat(server.get("Patient/" + id).statusCode()).isEqualTo(404);
  }

  @Test
  void a_null_that_aligns_a_primitive_with_its_extensions_is_kept() {
    String id = UUID.randomUUID().toString();
    String name = "\"name\":[{\"given\":[\"a\",null],\"_given\":[null,{\"extension\":[{\"url\":\"http://x\","
        + "\"valueString\":\"y\"}]}]}]";
    HttpResponse<String> r = server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"," + name + "}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(server.get("Patient/" + id).body()).contains(name);
  }

  @ParameterizedTest
  @ValueSource(strings = {"Patient%3F_count%3D1", "Patient%3Fgender%3Dmale%26_sort%3Dbirthdate",
      "Patient%3F_include%3DPatient:organization", "Patient%3F_summary%3Dcount", "Patient%3F_elements%3Did",
      "Patient%3F_include:iterate%3DPatient:link", "Patient%3F_total%3Daccurate"})
  void a_type_filter_with_a_result_parameter_answers_400_naming_it(String filter) {
    String name = java.net.URLDecoder.decode(filter, StandardCharsets.UTF_8).replaceAll(".*[?&](_[a-z:]+)=.*", "$1");
    assertOutcome(server.get("$export?_type=Patient&_typeFilter=" + filter, "Accept", "application/fhir+json",
        "Prefer", "respond-async"), 400, "_typeFilter", name);
  }

  @Test
  void a_conditional_update_that_creates_with_an_invalid_body_id_answers_400_and_stores_nothing() {
    String family = UUID.randomUUID().toString();
    assertOutcome(server.put("Patient?family=" + family, "{\"resourceType\":\"Patient\",\"id\":\"bad id\","
        + "\"name\":[{\"family\":\"" + family + "\"}]}"), 400, "bad id");
    assertThat(server.get("Patient?family=" + family).body()).doesNotContain("\"entry\"");
  }

  @Test
  void a_transaction_conditional_update_that_creates_with_an_invalid_body_id_answers_400() throws IOException {
    String family = UUID.randomUUID().toString();
    HttpResponse<String> r = server.post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + "{\"resource\":{\"resourceType\":\"Patient\",\"id\":\"bad_id!\",\"name\":[{\"family\":\"" + family + "\"}]},"
        + "\"request\":{\"method\":\"PUT\",\"url\":\"Patient?family=" + family + "\"}}]}");
    assertOutcome(r, 400, "bad_id!");
    assertThat(server.get("Patient?family=" + family).body()).doesNotContain("\"entry\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-0001-01-01T00:00:00Z", "0000-06-01T00:00:00Z", "0001-01-01T00:00:00%2B14:00",
      "%2B2020-01-01T00:00:00Z"})
  void an_instant_outside_the_years_1_to_9999_answers_400_at_export_kick_off(String since) {
    assertOutcome(server.get("$export?_type=Patient&_since=" + since, "Accept", "application/fhir+json",
        "Prefer", "respond-async"), 400, "_since");
  }

  @Test
  void an_instant_outside_the_years_1_to_9999_answers_400_in_history() {
    assertOutcome(server.get("_history?_since=-0001-01-01T00:00:00Z"), 400, "_since");
  }

  private RawHttp.Response raw(byte[] request) throws IOException {
    return RawHttp.exchange(server.app().port(), request);
  }

  /** The URL of a completed export's file (of one Patient made for it). */
  private String exportFileUrl() {
    String id = UUID.randomUUID().toString();
    server.put("Patient/" + id, "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\"}");
    HttpResponse<String> kickOff = server.get("$export?_type=Patient&_typeFilter=Patient%3F_id%3D" + id,
        "Accept", "application/fhir+json", "Prefer", "respond-async");
    assertThat(kickOff.statusCode()).as(kickOff.body()).isEqualTo(202);
    String status = kickOff.headers().firstValue("Content-Location").orElseThrow();
    long deadline = System.nanoTime() + 60_000_000_000L;
    HttpResponse<String> r = server.get(status);
    while (r.statusCode() == 202 && System.nanoTime() < deadline) {
      sleep();
      r = server.get(status);
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    try {
      return new ObjectMapper().readTree(r.body()).path("output").get(0).path("url").asText();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}

package dev.sluice.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each kind of search parameter, prefix and modifier against a small data set whose answers
 * are worked out by hand. All data carries this class's own tag, and every search filters on
 * it, so the shared server's other data never interferes.
 */
class SearchParametersTest {
  private static final TestServer server = TestServer.shared();
  private static final SearchClient client = new SearchClient(server);
  private static final String R = "s" + UUID.randomUUID().toString().substring(0, 8);
  private static final String TAG = "_tag=urn:sluice:test|" + R;

  private static String meta(String extra) {
    return "\"meta\":{\"tag\":[{\"system\":\"urn:sluice:test\",\"code\":\"" + R + "\"}]" + extra + "}";
  }

  @BeforeAll
  static void load() {
    client.put(
        "{\"resourceType\":\"Organization\",\"id\":\"" + R + "-org\"," + meta("") + ",\"name\":\"Acme " + R + "\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"" + R + "-p1\"," + meta("")
            + ",\"identifier\":[{\"type\":{\"coding\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v2-0203\",\"code\":\"MR\"}]},"
            + "\"system\":\"urn:mrn\",\"value\":\"" + R + "-111\"}],"
            + "\"name\":[{\"family\":\"Müller\",\"given\":[\"Anna\"]}],\"gender\":\"female\",\"birthDate\":\"1980-05-17\","
            + "\"address\":[{\"city\":\"Boston\"}],\"managingOrganization\":{\"reference\":\"Organization/" + R + "-org\"}}",
        "{\"resourceType\":\"Patient\",\"id\":\"" + R + "-p2\"," + meta(",\"source\":\"urn:" + R + ":src\"")
            + ",\"name\":[{\"family\":\"Mullins\",\"given\":[\"Bob\"]}],\"gender\":\"male\",\"birthDate\":\"1990\","
            + "\"address\":[{\"city\":\"Cambridge\"}]}",
        "{\"resourceType\":\"Patient\",\"id\":\"" + R + "-p3\","
            + meta(",\"profile\":[\"http://example.org/" + R + "/StructureDefinition/p\"]")
            + ",\"name\":[{\"family\":\"Smith\"}],\"gender\":\"other\","
            + "\"generalPractitioner\":[{\"reference\":\"http://example.org/fhir/Practitioner/" + R + "\"}]}",
        observation("o1", "final", "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\",\"display\":\"Systolic blood pressure\"}]}",
            "p1", "\"effectiveDateTime\":\"2021-03-04T10:00:00+02:00\",\"valueQuantity\":" + qty("120")),
        observation("o2", "preliminary", "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8462-4\",\"display\":\"Diastolic blood pressure\"}]}",
            "p1", "\"effectivePeriod\":{\"start\":\"2021-03-01\",\"end\":\"2021-03-10\"},\"valueQuantity\":" + qty("80.5")),
        observation("o3", "final", "{\"coding\":[{\"code\":\"local-1\"}],\"text\":\"Custom thing\"}",
            "p2", "\"effectiveDateTime\":\"2021\",\"valueString\":\"hello world\""),
        observation("o4", "amended", "{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\"}]}",
            "p2", "\"effectiveDateTime\":\"2022-01-01T00:30:00Z\",\"valueQuantity\":" + qty("140")
                + ",\"hasMember\":[{\"reference\":\"Observation/" + R + "-o1\"}]"),
        "{\"resourceType\":\"RiskAssessment\",\"id\":\"" + R + "-ra1\"," + meta("") + ",\"status\":\"final\","
            + "\"subject\":{\"reference\":\"Patient/" + R + "-p1\"},\"prediction\":[{\"probabilityDecimal\":0.25}]}",
        "{\"resourceType\":\"RiskAssessment\",\"id\":\"" + R + "-ra2\"," + meta("") + ",\"status\":\"final\","
            + "\"subject\":{\"reference\":\"Patient/" + R + "-p2\"},\"prediction\":[{\"probabilityDecimal\":0.8}]}",
        "{\"resourceType\":\"ValueSet\",\"id\":\"" + R + "-vs\"," + meta("") + ",\"status\":\"active\","
            + "\"url\":\"http://example.org/" + R + "/ValueSet/abc\"}");
  }

  private static String qty(String value) {
    return "{\"value\":" + value + ",\"unit\":\"mm[Hg]\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mm[Hg]\"}";
  }

  private static String observation(String id, String status, String code, String patient, String rest) {
    return "{\"resourceType\":\"Observation\",\"id\":\"" + R + "-" + id + "\"," + meta("") + ",\"status\":\"" + status
        + "\",\"code\":" + code + ",\"subject\":{\"reference\":\"Patient/" + R + "-" + patient + "\"}," + rest + "}";
  }

  /** The matches of {@code Type?query} among this class's data, as short ids (o1, p2, ...), sorted unless the query sorts. */
  private static List<String> find(String typeAndQuery) {
    String q = typeAndQuery + (typeAndQuery.contains("?") ? "&" : "?") + TAG;
    List<String> ids = new ArrayList<>();
    for (String id : client.ids(q)) {
      ids.add(id.substring(R.length() + 1));
    }
    if (!typeAndQuery.contains("_sort")) {
      ids.sort(null);
    }
    return ids;
  }

  @Test
  void token_matches_code_system_and_code_no_system_and_system_only() {
    assertThat(find("Observation?code=8480-6")).containsExactly("o1", "o4");
    assertThat(find("Observation?code=http://loinc.org|8462-4")).containsExactly("o2");
    assertThat(find("Observation?code=|local-1")).containsExactly("o3");
    assertThat(find("Observation?code=http://loinc.org|")).containsExactly("o1", "o2", "o4");
    assertThat(find("Observation?code=http://snomed.info/sct|8480-6")).isEmpty();
  }

  @Test
  void token_comma_is_or_and_repeated_parameter_is_and() {
    assertThat(find("Observation?status=final,amended")).containsExactly("o1", "o3", "o4");
    assertThat(find("Observation?code=8480-6&status=final")).containsExactly("o1");
    assertThat(find("Observation?status=final&status=amended")).isEmpty();
  }

  @Test
  void token_not_text_and_of_type_modifiers() {
    assertThat(find("Observation?code:not=8480-6")).containsExactly("o2", "o3");
    assertThat(find("Observation?code:text=systolic")).containsExactly("o1");
    assertThat(find("Observation?code:text=CUSTOM")).containsExactly("o3");
    assertThat(find("Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|" + R + "-111"))
        .containsExactly("p1");
    assertThat(find("Patient?identifier=urn:mrn|" + R + "-111")).containsExactly("p1");
  }

  @Test
  void token_on_a_code_enumeration_knows_its_system() {
    assertThat(find("Patient?gender=http://hl7.org/fhir/administrative-gender|female")).containsExactly("p1");
    assertThat(find("Patient?gender=male")).containsExactly("p2");
  }

  @Test
  void string_is_case_and_accent_insensitive_starts_with_by_default() {
    assertThat(find("Patient?name=mull")).containsExactly("p1", "p2");
    assertThat(find("Patient?family=MÜLLER")).containsExactly("p1");
    assertThat(find("Patient?family=muller")).containsExactly("p1");
    assertThat(find("Patient?family=ller")).isEmpty();
    assertThat(find("Patient?address-city=bost")).containsExactly("p1");
  }

  @Test
  void string_exact_and_contains_modifiers() {
    assertThat(find("Patient?family:exact=Müller")).containsExactly("p1");
    assertThat(find("Patient?family:exact=muller")).isEmpty();
    assertThat(find("Patient?name:contains=LLI")).containsExactly("p2");
    assertThat(find("Patient?name:contains=%25")).isEmpty();
  }

  @Test
  void date_equality_covers_partial_dates_and_periods() {
    assertThat(find("Observation?date=2021-03-04")).containsExactly("o1");
    assertThat(find("Observation?date=2021-03")).containsExactly("o1", "o2");
    assertThat(find("Observation?date=2021")).containsExactly("o1", "o2", "o3");
    assertThat(find("Observation?date=eq2021")).containsExactly("o1", "o2", "o3");
    assertThat(find("Observation?date=ne2021")).containsExactly("o4");
  }

  @Test
  void date_prefixes_compare_ranges() {
    assertThat(find("Observation?date=gt2021-12-31")).containsExactly("o4");
    assertThat(find("Observation?date=lt2021-03-02")).containsExactly("o2", "o3");
    assertThat(find("Observation?date=ge2021-03-05")).containsExactly("o2", "o3", "o4");
    assertThat(find("Observation?date=le2021-03-01")).containsExactly("o2", "o3");
    assertThat(find("Observation?date=sa2021-03-10")).containsExactly("o4");
    assertThat(find("Observation?date=eb2022")).containsExactly("o1", "o2", "o3");
    assertThat(find("Observation?date=ap2021-03-04")).containsExactly("o1", "o2", "o3");
    assertThat(find("Observation?date=ge2021-03-01&date=lt2021-04")).containsExactly("o1", "o2", "o3");
  }

  @Test
  void date_with_a_time_zone_is_compared_as_an_instant() {
    assertThat(find("Observation?date=2021-03-04T10:00%2B02:00")).containsExactly("o1");
    assertThat(find("Observation?date=2021-03-04T08:00Z")).containsExactly("o1");
    assertThat(find("Observation?date=2021-03-04T10:00Z")).isEmpty();
  }

  @Test
  void lastUpdated_is_a_date_parameter() {
    assertThat(find("Patient?_lastUpdated=gt2000")).containsExactly("p1", "p2", "p3");
    assertThat(find("Patient?_lastUpdated=lt2000")).isEmpty();
  }

  @Test
  void number_prefixes_and_implicit_precision() {
    assertThat(find("RiskAssessment?probability=0.25")).containsExactly("ra1");
    assertThat(find("RiskAssessment?probability=0.3")).containsExactly("ra1");
    assertThat(find("RiskAssessment?probability=0.30")).isEmpty();
    assertThat(find("RiskAssessment?probability=gt0.5")).containsExactly("ra2");
    assertThat(find("RiskAssessment?probability=ge0.8")).containsExactly("ra2");
    assertThat(find("RiskAssessment?probability=lt0.8")).containsExactly("ra1");
    assertThat(find("RiskAssessment?probability=le0.25")).containsExactly("ra1");
    assertThat(find("RiskAssessment?probability=ne0.25")).containsExactly("ra2");
    assertThat(find("RiskAssessment?probability=sa0.5")).containsExactly("ra2");
    assertThat(find("RiskAssessment?probability=eb0.5")).containsExactly("ra1");
    assertThat(find("RiskAssessment?probability=ap0.75")).containsExactly("ra2");
  }

  @Test
  void quantity_prefixes_and_units() {
    assertThat(find("Observation?value-quantity=120")).containsExactly("o1");
    assertThat(find("Observation?value-quantity=80")).isEmpty();
    assertThat(find("Observation?value-quantity=80.5")).containsExactly("o2");
    assertThat(find("Observation?value-quantity=gt100")).containsExactly("o1", "o4");
    assertThat(find("Observation?value-quantity=lt100|http://unitsofmeasure.org|mm[Hg]")).containsExactly("o2");
    assertThat(find("Observation?value-quantity=le120||mm[Hg]")).containsExactly("o1", "o2");
    assertThat(find("Observation?value-quantity=le120||kg")).isEmpty();
    assertThat(find("Observation?value-quantity=ne120")).containsExactly("o2", "o4");
    assertThat(find("Observation?value-quantity=ap130")).containsExactly("o1", "o4");
  }

  @Test
  void reference_by_id_type_and_id_type_modifier_and_absolute_url() {
    assertThat(find("Observation?subject=Patient/" + R + "-p1")).containsExactly("o1", "o2");
    assertThat(find("Observation?subject=" + R + "-p1")).containsExactly("o1", "o2");
    assertThat(find("Observation?subject:Patient=" + R + "-p2")).containsExactly("o3", "o4");
    assertThat(find("Observation?patient=" + R + "-p2")).containsExactly("o3", "o4");
    assertThat(find("Patient?general-practitioner=http://example.org/fhir/Practitioner/" + R)).containsExactly("p3");
  }

  @Test
  void chained_parameters_follow_references_one_or_more_levels() {
    assertThat(find("Observation?subject:Patient.gender=male")).containsExactly("o3", "o4");
    assertThat(find("Observation?subject.given=anna")).containsExactly("o1", "o2");
    assertThat(find("Observation?subject:Patient.organization.name=acme")).containsExactly("o1", "o2");
  }

  @Test
  void reverse_chaining_with_has() {
    assertThat(find("Patient?_has:Observation:subject:code=8462-4")).containsExactly("p1");
    assertThat(find("Patient?_has:Observation:patient:status=amended")).containsExactly("p2");
    assertThat(find("Patient?_has:Observation:patient:status=cancelled")).isEmpty();
  }

  @Test
  void uri_exact_below_profile_and_source() {
    assertThat(find("ValueSet?url=http://example.org/" + R + "/ValueSet/abc")).containsExactly("vs");
    assertThat(find("ValueSet?url:below=http://example.org/" + R + "/")).containsExactly("vs");
    assertThat(find("ValueSet?url=http://example.org/" + R + "/")).isEmpty();
    assertThat(find("Patient?_profile=http://example.org/" + R + "/StructureDefinition/p")).containsExactly("p3");
    assertThat(find("Patient?_source=urn:" + R + ":src")).containsExactly("p2");
  }

  @Test
  void composite_parts_must_match_the_same_value() {
    assertThat(find("Observation?code-value-quantity=http://loinc.org|8480-6$gt130")).containsExactly("o4");
    assertThat(find("Observation?code-value-quantity=8480-6$lt130")).containsExactly("o1");
    assertThat(find("Observation?code-value-quantity=8462-4$gt100")).isEmpty();
  }

  @Test
  void combo_parameters_cover_the_observation_and_its_components() {
    String tag = "urn:sluice:test|" + R + "-bp";
    server.put("Observation/" + R + "-bp", "{\"resourceType\":\"Observation\",\"id\":\"" + R + "-bp\","
        + "\"meta\":{\"tag\":[{\"system\":\"urn:sluice:test\",\"code\":\"" + R + "-bp\"}]},\"status\":\"final\","
        + "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"85354-9\",\"display\":\"Blood pressure panel\"}]},"
        + "\"component\":[{\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8480-6\",\"display\":\"Systolic\"}]},"
        + "\"valueQuantity\":" + qty("131") + "}]}");
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-code=8480-6")).containsExactly(R + "-bp");
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-code=85354-9")).containsExactly(R + "-bp");
    assertThat(client.ids("Observation?_tag=" + tag + "&code=8480-6")).isEmpty();
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-code:text=systolic")).containsExactly(R + "-bp");
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-value-quantity=131")).containsExactly(R + "-bp");
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-code-value-quantity=8480-6$gt130")).containsExactly(R + "-bp");
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-code-value-quantity=85354-9$gt130")).isEmpty();
    assertThat(client.ids("Observation?_tag=" + tag + "&component-code-value-quantity=8480-6$131")).containsExactly(R + "-bp");
    assertThat(client.ids("Observation?_tag=" + tag + "&combo-code:missing=false")).containsExactly(R + "-bp");
    assertThat(find("Observation?combo-code=8480-6")).containsExactly("o1", "o4");
    assertThat(find("Observation?combo-code-value-quantity=8480-6$gt130")).containsExactly("o4");
  }

  @Test
  void missing_works_on_every_kind() {
    assertThat(find("Patient?birthdate:missing=true")).containsExactly("p3");
    assertThat(find("Patient?birthdate:missing=false")).containsExactly("p1", "p2");
    assertThat(find("Observation?value-quantity:missing=true")).containsExactly("o3");
    assertThat(find("Patient?organization:missing=false")).containsExactly("p1");
    assertThat(find("Patient?family:missing=true")).isEmpty();
    assertThat(find("Patient?identifier:missing=true")).containsExactly("p2", "p3");
    assertThat(find("Patient?_profile:missing=false")).containsExactly("p3");
    assertThat(find("Observation?code-value-quantity:missing=true")).containsExactly("o3");
  }

  @Test
  void id_matches_logical_ids() {
    assertThat(find("Patient?_id=" + R + "-p1," + R + "-p3")).containsExactly("p1", "p3");
  }

  @Test
  void sort_ascending_descending_missing_last_and_on_several_keys() {
    assertThat(find("Patient?_sort=birthdate")).containsExactly("p1", "p2", "p3");
    assertThat(find("Patient?_sort=-birthdate")).containsExactly("p2", "p1", "p3");
    assertThat(find("Patient?_sort=family")).containsExactly("p1", "p2", "p3");
    assertThat(find("Observation?_sort=status,-date")).containsExactly("o4", "o3", "o1", "o2");
    assertThat(find("Observation?_sort=-_id")).containsExactly("o4", "o3", "o2", "o1");
  }

  @Test
  void paging_forward_and_back_is_stable_with_any_sort() {
    for (String sort : List.of("", "&_sort=-date", "&_sort=status,_lastUpdated", "&_sort=-value-quantity")) {
      JsonNode page = client.bundle("Observation?" + TAG + "&_count=1" + sort);
      List<String> forward = new ArrayList<>();
      List<JsonNode> pages = new ArrayList<>();
      while (true) {
        pages.add(page);
        forward.addAll(SearchClient.ids(page, "match"));
        String next = SearchClient.link(page, "next");
        if (next == null) {
          break;
        }
        page = client.bundle(next);
      }
      assertThat(forward).as(sort).hasSize(4).doesNotHaveDuplicates();
      assertThat(SearchClient.link(pages.getFirst(), "previous")).isNull();
      List<String> backward = new ArrayList<>(SearchClient.ids(page, "match"));
      String previous = SearchClient.link(page, "previous");
      while (previous != null) {
        JsonNode p = client.bundle(previous);
        backward.addAll(0, SearchClient.ids(p, "match"));
        previous = SearchClient.link(p, "previous");
      }
      assertThat(backward).as(sort).isEqualTo(forward);
    }
  }

  @Test
  void total_and_summary_count() {
    JsonNode b = client.bundle("Observation?" + TAG + "&_count=1&_total=accurate");
    assertThat(b.get("total").asInt()).isEqualTo(4);
    assertThat(SearchClient.ids(b, "match")).hasSize(1);
    JsonNode count = client.bundle("Observation?" + TAG + "&_summary=count");
    assertThat(count.get("total").asInt()).isEqualTo(4);
    assertThat(count.has("entry")).isFalse();
  }

  @Test
  void elements_keeps_only_the_named_elements_and_marks_the_result_subsetted() {
    JsonNode b = client.bundle("Observation?" + TAG + "&_id=" + R + "-o1&_elements=status");
    JsonNode r = b.get("entry").get(0).get("resource");
    assertThat(r.get("status").asText()).isEqualTo("final");
    assertThat(r.has("valueQuantity")).isFalse();
    assertThat(r.has("code")).isFalse();
    assertThat(r.get("meta").get("tag").toString()).contains("SUBSETTED");
  }

  @Test
  void include_and_revinclude_with_iterate() {
    JsonNode b = client.bundle("Observation?" + TAG + "&_id=" + R + "-o1&_include=Observation:subject");
    assertThat(SearchClient.ids(b, "match")).containsExactly(R + "-o1");
    assertThat(SearchClient.ids(b, "include")).containsExactly(R + "-p1");
    JsonNode rev = client.bundle("Patient?" + TAG + "&_id=" + R + "-p2&_revinclude=Observation:subject"
        + "&_include:iterate=Observation:has-member");
    assertThat(SearchClient.ids(rev, "match")).containsExactly(R + "-p2");
    assertThat(SearchClient.ids(rev, "include")).containsExactlyInAnyOrder(R + "-o3", R + "-o4", R + "-o1");
  }

  @Test
  void post_search_takes_a_form_body() {
    HttpResponse<String> res = server.post("Patient/_search", "family=mull&" + TAG,
        "Content-Type", "application/x-www-form-urlencoded");
    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
    assertThat(SearchClient.ids(SearchClient.json(res.body()), "match")).containsExactlyInAnyOrder(R + "-p1", R + "-p2");
  }

  @Test
  void compartment_search_finds_the_patients_resources() {
    assertThat(client.ids("Patient/" + R + "-p1/Observation?" + TAG)).containsExactlyInAnyOrder(R + "-o1", R + "-o2");
    assertThat(client.ids("Patient/" + R + "-p1/Observation?code=8462-4")).containsExactly(R + "-o2");
    assertThat(client.ids("Patient/" + R + "-p1/RiskAssessment")).containsExactly(R + "-ra1");
    client.error("Patient/" + R + "-p1/Organization", 400);
  }

  @Test
  void history_routes_still_win_over_compartment_search() {
    HttpResponse<String> res = server.get("Patient/" + R + "-p1/_history");
    assertThat(res.statusCode()).isEqualTo(200);
    assertThat(SearchClient.json(res.body()).get("type").asText()).isEqualTo("history");
  }

  @Test
  void unknown_parameter_is_a_400_naming_it_unless_handling_is_lenient() {
    JsonNode oo = client.error("Patient?foo=bar", 400);
    assertThat(oo.get("issue").get(0).get("expression").get(0).asText()).isEqualTo("foo");
    JsonNode b = client.bundle("Patient?foo=bar&" + TAG, "Prefer", "handling=lenient");
    assertThat(SearchClient.ids(b, "match")).hasSize(3);
    assertThat(SearchClient.ids(b, "outcome")).containsExactly("OperationOutcome");
  }

  @Test
  void unsupported_modifiers_and_malformed_values_are_400s_naming_the_parameter() {
    assertThat(client.error("Observation?code:in=http://x/vs", 400).toString()).contains("code:in");
    assertThat(client.error("Patient?family:below=x", 400).toString()).contains("family:below");
    assertThat(client.error("Patient?birthdate=yesterday", 400).toString()).contains("birthdate");
    assertThat(client.error("RiskAssessment?probability=lots", 400).toString()).contains("probability");
    assertThat(client.error("Observation?code-value-quantity=8480-6", 400).toString()).contains("code-value-quantity");
    assertThat(client.error("Patient?_sort=nope", 400).toString()).contains("_sort");
    assertThat(client.error("Patient?_count=many", 400).toString()).contains("_count");
    assertThat(client.error("Patient?_cursor=zzz", 400).toString()).contains("_cursor");
    assertThat(client.error("Patient?_include=Observation:subject", 400).toString()).contains("_include");
  }

  @Test
  void odd_input_never_makes_a_500() {
    for (String q : List.of("Patient?name=%27%3B%20drop%20table%20resource%3B--", "Patient?birthdate=ge9999-99-99",
        "Observation?value-quantity=gt1e999999", "Observation?subject=Patient/../x", "Patient?_has:Observation=1",
        "Patient?_has:Foo:bar:baz=1", "Observation?subject:Nope.name=x", "Patient?name=%00", "Patient?_id=",
        "Patient?gender:missing=maybe", "Observation?subject.name.name.name.name.name=x", "Patient?_sort=-",
        "Observation?date=ap", "Patient?_elements=a.b", "Patient?_total=lots", "Patient?_summary=data",
        "Observation?code=a|b|c", "Patient?identifier:of-type=a|b", "Patient?_include=*", "Observation?date=ap0001",
        "Observation?date=gt9999-12-31", "Observation?date=ap9999", "Observation?date=eb0001-01-01T00:00-14:00",
        "RiskAssessment?probability=ap-0", "Observation?value-quantity=1e-9999", "Patient?_sort=_id&_cursor=WyJhIiwxXQ",
        "Patient?_count=1&_cursor=WyJhIiwxLCJ4Il0", "Patient?_sort=birthdate&_cursor=WyJhIiwgMSwgInp6Il0",
        "RiskAssessment?_sort=probability&_cursor=WyJhIiwgMSwgInp6Il0")) {
      HttpResponse<String> res = server.get(SearchClient.encode(q));
      assertThat(res.statusCode()).as(q + " -> " + res.body()).isLessThan(500);
    }
  }

  @Test
  void update_and_delete_change_what_a_search_finds() {
    String id = R + "-u" + UUID.randomUUID().toString().substring(0, 6);
    String body = "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\"," + meta("")
        + ",\"status\":\"final\",\"code\":{\"coding\":[{\"system\":\"urn:x\",\"code\":\"%s\"}]}}";
    server.put("Observation/" + id, body.formatted("before-" + R));
    assertThat(client.ids("Observation?code=urn:x|before-" + R)).containsExactly(id);
    server.put("Observation/" + id, body.formatted("after-" + R));
    assertThat(client.ids("Observation?code=urn:x|before-" + R)).isEmpty();
    assertThat(client.ids("Observation?code=urn:x|after-" + R)).containsExactly(id);
    server.delete("Observation/" + id);
    assertThat(client.ids("Observation?code=urn:x|after-" + R)).isEmpty();
  }

  @Test
  void conditional_create_creates_once_then_answers_the_existing_resource() {
    String body = "{\"resourceType\":\"Patient\"," + meta("") + ",\"identifier\":[{\"system\":\"urn:cc\",\"value\":\"" + R + "\"}]}";
    HttpResponse<String> first = server.post("Patient", body, "If-None-Exist", "identifier=urn:cc|" + R);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    HttpResponse<String> second = server.post("Patient", body, "If-None-Exist", "identifier=urn:cc|" + R);
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    assertThat(SearchClient.json(second.body()).get("id").asText()).isEqualTo(SearchClient.json(first.body()).get("id").asText());
    server.post("Patient", body);
    assertThat(server.post("Patient", body, "If-None-Exist", "identifier=urn:cc|" + R).statusCode()).isEqualTo(412);
    assertThat(server.post("Patient", body, "If-None-Exist", "colour=red").statusCode()).isEqualTo(400);
  }

  @Test
  void capability_statement_lists_the_search_parameters_of_each_type() {
    JsonNode cs = SearchClient.json(server.get("metadata").body());
    List<String> observation = new ArrayList<>();
    for (JsonNode r : cs.get("rest").get(0).get("resource")) {
      if (r.get("type").asText().equals("Observation")) {
        r.get("searchParam").forEach(p -> observation.add(p.get("name").asText() + ":" + p.get("type").asText()));
      }
    }
    assertThat(observation).contains("code:token", "date:date", "subject:reference", "value-quantity:quantity",
        "code-value-quantity:composite", "_lastUpdated:date", "_source:uri", "value-string:string");
  }
}

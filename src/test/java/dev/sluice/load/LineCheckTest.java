package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class LineCheckTest {
  private static LineCheck.Result check(String line) {
    return LineCheck.check(line.getBytes(StandardCharsets.UTF_8));
  }

  private static String reason(String line) {
    return ((LineCheck.Invalid) check(line)).reason();
  }

  @Test
  void finds_type_and_id_wherever_they_are_and_with_any_whitespace() {
    assertThat(check("{\"resourceType\":\"Patient\",\"id\":\"p1\"}")).isEqualTo(new LineCheck.Resource("Patient", "p1"));
    assertThat(check(" { \"a\" : [1, {\"b\": \"}\"}, true, null, -1.5e+3] ,\n\"id\":\"p.2\", \"resourceType\" : \"Patient\" } "))
        .isEqualTo(new LineCheck.Resource("Patient", "p.2"));
    assertThat(check("{\"resourceType\":\"Patient\",\"id\":\"p3\",\"text\":{\"div\":\"<div>\\\"}]\\\\</div>\"}}"))
        .isEqualTo(new LineCheck.Resource("Patient", "p3"));
  }

  @Test
  void escapes_in_the_names_or_in_type_and_id_are_decoded() {
    assertThat(check("{\"resource\\u0054ype\":\"Patient\",\"id\":\"p\\u0031\"}")).isEqualTo(new LineCheck.Resource("Patient", "p1"));
  }

  @Test
  void a_line_that_could_reshape_the_bundle_around_it_fails_alone() {
    assertThat(reason("{\"resourceType\":\"Device\",\"id\":\"x\",")).contains("malformed JSON");
    assertThat(reason("{\"resourceType\":\"Device\",\"id\":\"x\",\"a\":[}]}")).contains("malformed JSON");
    assertThat(reason("{\"resourceType\":\"Device\",\"id\":\"x\",\"a\":tr\"ue}")).contains("malformed JSON");
    assertThat(reason("{\"resourceType\":\"Device\",\"id\":\"x\",\"a\":\"open}")).contains("malformed JSON");
    assertThat(reason("{\"resourceType\":\"Device\",\"id\":\"x\",\"a\":}")).contains("malformed JSON");
    assertThat(reason("{\"resourceType\":\"Device\",\"id\":\"x\"}, {\"resource\":{}}")).contains("more than one");
    assertThat(reason("[{\"resourceType\":\"Device\"}]")).contains("not a JSON object");
    assertThat(reason("")).contains("not a JSON object");
  }

  @Test
  void type_and_id_are_checked() {
    assertThat(reason("{\"resourceType\":\"Patient\"}")).startsWith("no id");
    assertThat(reason("{\"id\":\"x\"}")).isEqualTo("no resourceType");
    assertThat(reason("{\"resourceType\":\"patient\",\"id\":\"x\"}")).contains("not a resource type name");
    assertThat(reason("{\"resourceType\":\"Patient\",\"id\":\"a/b\"}")).contains("not a valid FHIR id");
    assertThat(reason("{\"resourceType\":\"Patient\",\"id\":7}")).isEqualTo("'id' is not a string");
  }
}

package dev.sluice.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;

/** Assertions on error answers: the status, an OperationOutcome body, and the words it must name. */
public final class Outcomes {
  private Outcomes() {}

  public static void assertOutcome(HttpResponse<String> r, int status, String... named) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains("\"resourceType\":\"OperationOutcome\"");
    for (String name : named) {
      assertThat(r.body()).contains(name);
    }
  }
}

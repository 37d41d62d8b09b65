package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.fhir.FhirException;
import java.util.List;
import org.junit.jupiter.api.Test;

class CallerAccessTest {
  private static Caller caller(String scopes) {
    return Caller.of("client", Scopes.parse(scopes));
  }

  @Test
  void v1_read_allows_read_vread_history_and_search_but_not_writes() {
    Caller c = caller("system/Observation.read");
    for (Interaction i : List.of(Interaction.READ, Interaction.VREAD, Interaction.HISTORY, Interaction.SEARCH,
        Interaction.EXPORT)) {
      assertThat(c.access(i, "Observation")).as(i.name()).isInstanceOf(Access.Whole.class);
    }
    for (Interaction i : List.of(Interaction.CREATE, Interaction.UPDATE, Interaction.DELETE)) {
      assertThat(c.access(i, "Observation")).as(i.name()).isInstanceOf(Access.Denied.class);
    }
    assertThat(c.access(Interaction.READ, "Patient")).isInstanceOf(Access.Denied.class);
  }

  @Test
  void v1_write_allows_create_update_delete_only() {
    Caller c = caller("system/*.write");
    assertThat(c.mayWhole(Interaction.CREATE, "Patient")).isTrue();
    assertThat(c.mayWhole(Interaction.DELETE, "Observation")).isTrue();
    assertThat(c.mayWhole(Interaction.READ, "Patient")).isFalse();
  }

  @Test
  void v2_letters_grant_exactly_what_they_name() {
    Caller c = caller("system/Observation.rs system/Patient.cu");
    assertThat(c.mayWhole(Interaction.READ, "Observation")).isTrue();
    assertThat(c.mayWhole(Interaction.SEARCH, "Observation")).isTrue();
    assertThat(c.mayWhole(Interaction.UPDATE, "Observation")).isFalse();
    assertThat(c.mayWhole(Interaction.CREATE, "Patient")).isTrue();
    assertThat(c.mayWhole(Interaction.DELETE, "Patient")).isFalse();
    assertThat(c.mayWhole(Interaction.READ, "Patient")).isFalse();
  }

  @Test
  void v2_letters_out_of_order_and_user_scopes_grant_nothing() {
    assertThat(caller("system/Observation.sr").mayWhole(Interaction.READ, "Observation")).isFalse();
    assertThat(caller("user/Observation.rs").mayWhole(Interaction.READ, "Observation")).isFalse();
  }

  @Test
  void search_constrained_scope_narrows_search_and_never_allows_export() {
    Caller c = caller("system/Observation.rs?category=laboratory");
    assertThat(c.access(Interaction.SEARCH, "Observation"))
        .isEqualTo(new Access.Narrowed(List.of("category=laboratory")));
    assertThat(c.access(Interaction.EXPORT, "Observation")).isInstanceOf(Access.Denied.class);
    assertThatThrownBy(() -> c.requireWhole(Interaction.VREAD, "Observation"))
        .isInstanceOfSatisfying(FhirException.class, e -> assertThat(e.status()).isEqualTo(403));
  }

  @Test
  void an_unconstrained_scope_beside_a_constrained_one_gives_the_whole_type() {
    Caller c = caller("system/Observation.rs?category=laboratory system/Observation.read");
    assertThat(c.access(Interaction.SEARCH, "Observation")).isInstanceOf(Access.Whole.class);
  }

  @Test
  void granted_scopes_are_the_asked_ones_that_a_registered_one_covers() {
    Scopes registered = Scopes.parse("system/*.read system/Observation.cruds");
    assertThat(registered.grant(Scopes.parse("system/Patient.rs system/Encounter.write system/Observation.c"))
        .text()).isEqualTo("system/Patient.rs system/Observation.c");
    assertThat(Scopes.parse("system/Observation.rs?category=laboratory")
        .grant(Scopes.parse("system/Observation.rs system/Observation.rs?category=laboratory")).text())
        .isEqualTo("system/Observation.rs?category=laboratory");
  }

  @Test
  void anonymous_callers_own_every_job_and_token_callers_only_their_own() {
    assertThat(Caller.anonymous("addr:1").owns("someone")).isTrue();
    assertThat(Caller.of("a", Scopes.ALL).owns("a")).isTrue();
    assertThat(Caller.of("a", Scopes.ALL).owns("b")).isFalse();
  }
}

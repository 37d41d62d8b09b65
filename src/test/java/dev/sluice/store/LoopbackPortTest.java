package dev.sluice.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The embedded PostgreSQL's port is never the HTTP server's. */
class LoopbackPortTest {

  @Test
  void a_free_port_that_is_the_http_servers_is_passed_over() {
    Iterator<Integer> offered = List.of(44635, 44635, 51200).iterator();
    assertThat(LoopbackPort.freeOtherThan(44635, offered::next)).isEqualTo(51200);
  }

  @Test
  void the_system_gives_a_port_on_loopback_other_than_the_one_asked_around() {
    int http = LoopbackPort.freeOtherThan(-1);
    assertThat(LoopbackPort.freeOtherThan(http)).isNotEqualTo(http).isBetween(1, 65535);
  }

  @Test
  void a_system_that_offers_only_that_port_is_an_error_not_a_collision() {
    assertThatThrownBy(() -> LoopbackPort.freeOtherThan(44635, () -> 44635)).isInstanceOf(IllegalStateException.class);
  }
}

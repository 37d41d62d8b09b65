package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.testing.TestServer;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Liveness and readiness; the last test stops this class's own database. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HealthTest {
  private static TestServer server;

  @BeforeAll
  static void start() {
    server = TestServer.startFresh();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  @Test
  @Order(1)
  void ready_answers_200_when_the_database_accepts_a_new_connection() {
    HttpResponse<String> r = server.get("/health/ready");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"status\":\"UP\"").contains("\"database\":\"UP\"");
  }

  @Test
  @Order(2)
  void ready_answers_503_while_the_database_refuses_new_connections_though_pooled_ones_work() throws Exception {
    // pg_hba.conf refusing everyone, reloaded: connections already open keep working
    Path hba = server.dataDir().resolve("postgres/pg_hba.conf");
    String original = Files.readString(hba);
    try (Connection c = server.app().dataSource().getConnection(); Statement s = c.createStatement()) {
      Files.writeString(hba, "local all all reject\nhost all all all reject\n");
      s.execute("select pg_reload_conf()");
      try {
        HttpResponse<String> ready = server.get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).contains("OperationOutcome").contains("\"code\":\"transient\"")
            .contains("does not accept new connections");
        // the pool's connections still serve requests, so only a new connection shows the problem
        assertThat(server.get("Patient?_count=1").statusCode()).isEqualTo(200);
        assertThat(server.get("/health").statusCode()).isEqualTo(200);
      } finally {
        Files.writeString(hba, original);
        s.execute("select pg_reload_conf()");
      }
    }
    assertThat(server.get("/health/ready").statusCode()).isEqualTo(200);
  }

  @Test
  @Order(3)
  void with_the_database_stopped_health_answers_200_and_ready_503() throws Exception {
    String pid = Files.readAllLines(server.dataDir().resolve("postgres/postmaster.pid")).getFirst().trim();
    // SIGINT: PostgreSQL's fast shutdown, which also ends the pool's connections
    Process kill = new ProcessBuilder("kill", "-INT", pid).inheritIO().start();
    assertThat(kill.waitFor()).isZero();
    ProcessHandle.of(Long.parseLong(pid)).ifPresent(p -> p.onExit().join());

    HttpResponse<String> health = server.get("/health");
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).contains("\"status\":\"UP\"");
    HttpResponse<String> ready = server.get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(ready.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("json"));
    assertThat(ready.body()).contains("\"resourceType\":\"OperationOutcome\"").contains("\"code\":\"transient\"");
  }
}

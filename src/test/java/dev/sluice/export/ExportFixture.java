package dev.sluice.export;

import dev.sluice.cli.Application;
import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import dev.sluice.testing.Fixtures;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.List;
import java.util.Map;

/**
 * One server for the export tests, loaded once with the small population (3,302 resources
 * of 10 patients). Tests that write use their own ids and types outside that population
 * (Basic, Flag), so the population's counts stay exact. Files roll over every 500 resources
 * and parts hold about 400, so every type of some size spans several parts and files.
 */
final class ExportFixture {
  static final long MAX_FILE_RESOURCES = 500;
  static final long PART_RESOURCES = 400;

  private static ExportClient client;
  private static Map<String, List<String>> loaded;

  private ExportFixture() {}

  static synchronized ExportClient client() {
    if (client == null) {
      TestServer server = TestServer.start(tempDir(), config(e -> e));
      Runtime.getRuntime().addShutdownHook(new Thread(server::close));
      client = new ExportClient(server);
      loaded = client.load(Fixtures.small(), ExportClient.SMALL_TYPES);
    }
    return client;
  }

  static Map<String, List<String>> loaded() {
    client();
    return loaded;
  }

  static Path tempDir() {
    try {
      return Files.createTempDirectory("sluice-export-test");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  interface Tweak {
    ExportConfig apply(ExportConfig e);
  }

  static java.util.function.Function<Path, Config> config(Tweak tweak) {
    ExportConfig d = ExportConfig.defaults();
    ExportConfig e = tweak.apply(new ExportConfig(d.storage(), d.azureConnectionString(), 2, d.maxRunningJobs(),
        d.maxFileBytes(), MAX_FILE_RESOURCES, PART_RESOURCES, 4, 3600, true, 10));
    return dir -> {
      Config base = TestServer.config(dir);
      return new Config(base.host(), base.port(), base.dataDir(), base.dbUrl(), base.dbUser(), base.dbPassword(),
          base.dbPoolSize(), base.publicBaseUrl(), base.maxBodyBytes(), e).validate();
    };
  }

  /** A transaction that holds an xid, so that a kick-off waits for it before scanning. */
  static Connection holdTransaction() throws Exception {
    return holdTransaction(client().server());
  }

  /** The same on another server. */
  static Connection holdTransaction(TestServer server) throws Exception {
    Connection c = server.app().dataSource().getConnection();
    c.setAutoCommit(false);
    c.createStatement().execute("select pg_current_xact_id()");
    return c;
  }

  static Application app() {
    return client().server().app();
  }
}

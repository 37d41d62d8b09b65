package dev.sluice.cli;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchParser;
import dev.sluice.store.ResourceSearch;
import dev.sluice.store.SearchSql;
import java.time.Clock;
import dev.sluice.http.FhirServer;
import dev.sluice.store.Database;
import dev.sluice.store.ResourceStore;
import dev.sluice.store.SearchIndexWriter;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole server, wired by hand top to bottom, closed in reverse order. Tests start it the
 * same way the command line does.
 */
public final class Application implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Application.class);

  private final Database database;
  private final FhirServer server;
  private final JvmGcMetrics gcMetrics;

  private Application(Database database, FhirServer server, JvmGcMetrics gcMetrics) {
    this.database = database;
    this.server = server;
    this.gcMetrics = gcMetrics;
  }

  public static Application start(Config config) {
    log.info("Starting Sluice {} with {}", Version.current(), config);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(metrics);
    new JvmMemoryMetrics().bindTo(metrics);
    JvmGcMetrics gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(metrics);
    new JvmThreadMetrics().bindTo(metrics);
    new ProcessorMetrics().bindTo(metrics);
    new UptimeMetrics().bindTo(metrics);

    FhirModel fhir = new FhirModel();
    Database database = Database.open(
        new Database.Settings(config.dataDir(), config.dbUrl(), config.dbUser(), config.dbPassword(), config.dbPoolSize()),
        metrics);
    try {
      PatientCompartment compartment = new PatientCompartment(fhir);
      SearchParameters parameters = new SearchParameters(fhir);
      SearchIndexWriter indexer = new SearchIndexWriter(fhir, compartment, parameters, new ParamExpressions(fhir));
      ResourceStore store = new ResourceStore(database.dataSource(), fhir, indexer);
      SearchParser parser = new SearchParser(fhir, parameters);
      ResourceSearch search = new ResourceSearch(database.dataSource(), new SearchSql(Clock.systemUTC()));
      FhirServer server = new FhirServer(
          new FhirServer.Settings(config.host(), config.port(), config.publicBaseUrl(), config.maxBodyBytes()),
          Version.current(), fhir, database, store, new FhirServer.Search(parser, search, parameters, compartment),
          metrics).start();
      log.info("Sluice FHIR server ready at http://{}:{}/fhir", config.host(), server.port());
      return new Application(database, server, gcMetrics);
    } catch (RuntimeException e) {
      database.close();
      throw e;
    }
  }

  /** For tests and tools that inspect the database directly. */
  public javax.sql.DataSource dataSource() {
    return database.dataSource();
  }

  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    log.info("Stopping Sluice");
    server.close();
    gcMetrics.close();
    database.close();
  }
}

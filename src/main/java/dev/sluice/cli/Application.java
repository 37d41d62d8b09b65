package dev.sluice.cli;

import com.azure.core.credential.TokenCredential;
import com.azure.identity.DefaultAzureCredentialBuilder;
import dev.sluice.auth.AuthMode;
import dev.sluice.auth.Authenticator;
import dev.sluice.auth.OidcProvider;
import dev.sluice.auth.OidcTokenVerifier;
import dev.sluice.auth.RoleScopes;
import dev.sluice.auth.VerifiedTokenCache;
import java.net.http.HttpClient;
import dev.sluice.auth.ClientKeys;
import dev.sluice.auth.SigningKeys;
import dev.sluice.auth.SmartAuthority;
import dev.sluice.auth.SmartTokenVerifier;
import dev.sluice.store.AssertionJtiTable;
import dev.sluice.store.ClientTable;
import dev.sluice.store.SigningKeyTable;
import dev.sluice.export.AnonymizationConfigs;
import dev.sluice.export.AzureBlobOutputStore;
import dev.sluice.export.ExportJobs;
import dev.sluice.export.ExportSettings;
import dev.sluice.export.ExportTypes;
import dev.sluice.export.ExportWorkers;
import dev.sluice.export.GroupMembers;
import dev.sluice.export.ExportMetrics;
import dev.sluice.export.JobEnds;
import dev.sluice.export.JobNotes;
import dev.sluice.export.JobPlanner;
import dev.sluice.export.LeaseKeeper;
import dev.sluice.export.ExportTables;
import dev.sluice.export.LocalOutputStore;
import dev.sluice.export.LowPriorityThreads;
import dev.sluice.export.OutputStore;
import dev.sluice.export.PartFiles;
import dev.sluice.export.PartKinds;
import dev.sluice.export.PartOutcomes;
import dev.sluice.export.PartSelection;
import dev.sluice.export.PartWorker;
import dev.sluice.imports.BlobInputs;
import dev.sluice.imports.ImportJobs;
import dev.sluice.imports.ImportSettings;
import dev.sluice.imports.ImportSource;
import dev.sluice.imports.ImportWorkers;
import dev.sluice.store.ImportJobTable;
import dev.sluice.store.VersionImport;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.OwnBases;
import dev.sluice.fhir.ParamExpressions;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchParser;
import dev.sluice.store.PostLoadAnalyzer;
import dev.sluice.store.ResourceSearch;
import dev.sluice.store.SearchSql;
import java.time.Clock;
import dev.sluice.http.FhirServer;
import dev.sluice.store.Database;
import dev.sluice.store.ExportFileTable;
import dev.sluice.store.ExportJobTable;
import dev.sluice.store.ExportPartTable;
import dev.sluice.store.ExportScan;
import dev.sluice.store.Niceness;
import dev.sluice.store.PastVersionSearch;
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
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole server, wired by hand top to bottom, closed in reverse order. Tests start it the
 * same way the command line does.
 */
public final class Application implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Application.class);

  private static final Duration EXECUTOR_STOP = Duration.ofSeconds(10);
  /** How often PostLoadAnalyzer looks whether a load is over: the planner's lag after one, at most twice this. */
  private static final Duration ANALYZE_LOOK = Duration.ofSeconds(5);
  /** Verified tokens remembered until they expire: far more than clients a server has at once. */
  private static final int VERIFIED_TOKENS = 10_000;

  private final Database database;
  private final FhirServer server;
  private final JvmGcMetrics gcMetrics;
  private final ExportWorkers exportWorkers;
  private final ImportWorkers importWorkers;
  private final NamedExecutor exportLoops;
  private final Duration exportStop;
  private final List<NamedExecutor> executors;
  private final Optional<AuditFile> auditFile;
  /** Closed once: a shutdown hook and a try-with-resources may both close it. */
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private Application(Database database, FhirServer server, JvmGcMetrics gcMetrics, ExportWorkers exportWorkers,
      ImportWorkers importWorkers, NamedExecutor exportLoops, Duration exportStop, List<NamedExecutor> executors,
      Optional<AuditFile> auditFile) {
    this.importWorkers = importWorkers;
    this.auditFile = auditFile;
    this.database = database;
    this.server = server;
    this.gcMetrics = gcMetrics;
    this.exportWorkers = exportWorkers;
    this.exportLoops = exportLoops;
    this.exportStop = exportStop;
    this.executors = executors;
  }

  public static Application start(Config config) {
    log.info("Starting Sluice {} with {}", Version.current(), config);
    PortInUse.check(config.host(), config.port(), "--port");
    config.edge().managementPort().ifPresent(p -> PortInUse.check(config.host(), p, "--management-port"));
    warnIfLinksFollowHost(config);
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(metrics);
    new JvmMemoryMetrics().bindTo(metrics);
    JvmGcMetrics gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(metrics);
    new JvmThreadMetrics().bindTo(metrics);
    new ProcessorMetrics().bindTo(metrics);
    new UptimeMetrics().bindTo(metrics);

    FhirModel fhir = new FhirModel();
    Optional<AuditFile> auditFile = config.edge().auditFile().map(AuditFile::attach);
    Database database = Database.open(
        new Database.Settings(config.dataDir(), config.dbUrl(), config.dbUser(), config.dbPassword(), config.dbPoolSize(),
            config.port(), config.export().poolSize(), config.export().niceness()),
        metrics);
    List<NamedExecutor> executors = new ArrayList<>();
    ExportWorkers exportWorkers = null;
    ImportWorkers importWorkers = null;
    NamedExecutor exportLoops;
    try {
      PatientCompartment compartment = new PatientCompartment(fhir);
      SearchParameters parameters = new SearchParameters(fhir);
      ParamExpressions expressions = new ParamExpressions(fhir);
      OwnBases ownBases = OwnBases.of(config.publicBaseUrl(), config.host(), config.port());
      log.info("Absolute references under {} and under each request's base are local references", ownBases.bases());
      SearchIndexWriter indexer = new SearchIndexWriter(fhir, compartment, parameters, expressions, ownBases);
      ResourceStore store = new ResourceStore(database.dataSource(), fhir, indexer);
      SearchParser parser = new SearchParser(fhir, parameters, ownBases);
      SearchSql searchSql = new SearchSql(Clock.systemUTC());
      ResourceSearch search = new ResourceSearch(database.dataSource(), searchSql);
      named(executors, "post-load-analyzer-").executor().submit(new PostLoadAnalyzer(database.dataSource(), ANALYZE_LOOK));

      // export: durable jobs in the database, worked by every process that shares it
      ExportSettings exportSettings = config.export().settings();
      // the local store's files are served by this server; Azure's and S3's by them
      Optional<LocalOutputStore> localFiles = config.export().storage().equals("local")
          ? Optional.of(new LocalOutputStore(config.dataDir().resolve("exports"), config.auth().mode() != AuthMode.NONE,
              config.export().gzipCopy())) : Optional.empty();
      // Entra ID: AZURE_* environment, workload identity, managed identity, Azure CLI, in that order;
      // no instance discovery: it asks login.microsoftonline.com about the authority, which sovereign and
      // private clouds (AZURE_AUTHORITY_HOST) cannot reach, and the authority is the operator's choice anyway
      TokenCredential entraId = config.export().azureAccountUrl() == null ? null
          : new DefaultAzureCredentialBuilder().disableInstanceDiscovery().build();
      OutputStore output = switch (config.export().storage()) {
        case "azure" -> entraId != null
            ? AzureBlobOutputStore.withEntraId(config.export().azureAccountUrl(), entraId, Clock.systemUTC(),
                ExportConfig.AZURE_BLOCK_BYTES, ExportConfig.AZURE_UPLOAD_CONCURRENCY)
            : AzureBlobOutputStore.withConnectionString(config.export().azureConnectionString(),
                ExportConfig.AZURE_BLOCK_BYTES, ExportConfig.AZURE_UPLOAD_CONCURRENCY);
        case "s3" -> config.export().s3().store();
        default -> localFiles.orElseThrow();
      };
      ExportJobTable exportJobs = new ExportJobTable(database.dataSource());
      ExportPartTable exportParts = new ExportPartTable(database.dataSource());
      ExportTables exportTables = new ExportTables(exportJobs, exportParts, new ExportFileTable(database.dataSource()));
      // the export's reads on its own pool, at a lower priority than the API's (Database.exportDataSource)
      ExportScan exportScan = new ExportScan(database.exportDataSource(), ExportConfig.DELETION_FETCH_SIZE, fhir, searchSql,
          new PastVersionSearch(fhir, parameters, expressions, ownBases, searchSql), ExportConfig.REPLACED_BATCH);
      ExportTypes exportTypes = new ExportTypes(fhir, compartment);
      AnonymizationConfigs anonymizations = new AnonymizationConfigs(fhir, output, exportJobs);
      String owner = processId();
      GroupMembers groupMembers = new GroupMembers(fhir, exportScan, ownBases);
      // platform threads at --export-niceness: the export's JVM work yields to the API's requests
      exportLoops = named(executors, "export-worker-",
          new LowPriorityThreads("export-worker-", new Niceness(config.export().niceness())));
      ExecutorService leaseKeepers = named(executors, "export-lease-").executor();
      ExportMetrics exportMetrics = new ExportMetrics(metrics);
      JobEnds jobEnds = new JobEnds(exportJobs, exportSettings, exportMetrics);
      exportWorkers = new ExportWorkers(exportSettings, exportJobs, exportParts, output,
          new JobPlanner(exportSettings, exportJobs, exportParts, exportScan, groupMembers,
              exportTypes, output, jobEnds, owner),
          partWorker(exportSettings, exportTables, exportScan, output, new LeaseKeeper(exportParts, exportSettings,
              leaseKeepers, owner), new PartSelection(fhir, compartment, parser, anonymizations, exportParts, exportMetrics),
              new JobNotes(groupMembers, anonymizations), new PartOutcomes(exportParts, exportSettings, jobEnds,
              exportMetrics, owner)),
          jobEnds, exportMetrics, exportLoops.executor(), owner).start();
      ExportJobs exports = new ExportJobs(exportSettings, exportTables, output, store, anonymizations, exportTypes,
          exportWorkers::wake);

      // import: durable jobs like exports, one part per input, from the import folder
      Optional<BlobInputs> blobInputs = !config.export().storage().equals("azure") ? Optional.empty()
          : Optional.of(entraId != null ? BlobInputs.withEntraId(config.export().azureAccountUrl(), entraId)
              : BlobInputs.withConnectionString(config.export().azureConnectionString()));
      ImportSource importSource = new ImportSource(config.importFolder(), blobInputs,
          config.export().storage().equals("s3") ? Optional.of(config.export().s3().inputs()) : Optional.empty());
      try {
        java.nio.file.Files.createDirectories(importSource.root());
      } catch (java.io.IOException e) {
        throw new IllegalStateException("Cannot create the import folder " + importSource.root() + ": " + e, e);
      }
      ImportSettings importSettings = ImportSettings.defaults(config.export().workers(), exportSettings.lease(),
          config.export().requireAsyncHeaders(), exportSettings.retention());
      ImportJobTable importJobs = new ImportJobTable(database.dataSource());
      importWorkers = new ImportWorkers(importSettings, importJobs, importSource, fhir, indexer,
          new VersionImport(database.dataSource(), fhir, indexer),
          new dev.sluice.store.InitialLoadStage(database.dataSource()), named(executors, "import-worker-").executor(),
          owner).start();
      ImportJobs imports = new ImportJobs(importJobs, importSource, fhir, importSettings, importWorkers::wake);

      FhirServer server = new FhirServer(
          new FhirServer.Settings(config.host(), config.port(), config.publicBaseUrl(), config.maxBodyBytes(),
              config.log().accessLog(), config.edge().tls(), config.edge().managementPort()),
          Version.current(), fhir, database, store, new FhirServer.Search(parser, search, parameters, compartment),
          exports, localFiles, exportTypes, imports, security(config, database), metrics).start();
      log.info("Sluice FHIR server ready at {}://{}:{}/fhir", config.edge().tls().isPresent() ? "https" : "http",
          config.host(), server.port());
      // parts in progress notice shutdown at their next lease tick, then give themselves back
      Duration exportStop = exportSettings.renewEvery().multipliedBy(2).plus(EXECUTOR_STOP);
      return new Application(database, server, gcMetrics, exportWorkers, importWorkers, exportLoops, exportStop,
          executors, auditFile);
    } catch (RuntimeException e) {
      if (exportWorkers != null) {
        exportWorkers.close();
      }
      if (importWorkers != null) {
        importWorkers.close();
      }
      stop(executors);
      database.close();
      auditFile.ifPresent(AuditFile::close);
      throw e;
    }
  }

  private static PartWorker partWorker(ExportSettings settings, ExportTables tables, ExportScan scan, OutputStore output,
      LeaseKeeper leases, PartSelection selection, JobNotes notes, PartOutcomes outcomes) {
    PartFiles files = new PartFiles(output, tables.files(), settings);
    return new PartWorker(scan, leases, files, new PartKinds(files, selection, notes), outcomes);
  }

  private static FhirServer.Security security(Config config, Database database) {
    AuthConfig auth = config.auth();
    return switch (auth.mode()) {
      case NONE -> {
        if (auth.openBeyondLoopback(config.host())) {
          log.warn("--auth none on {} with --allow-unauthenticated: anyone who reaches this address can read, change"
              + " and export every record", config.host());
        }
        yield FhirServer.Security.none();
      }
      case SMART -> {
        SigningKeyTable keyTable = new SigningKeyTable(database.dataSource());
        String issuer = issuer(config, keyTable);
        Duration lifetime = Duration.ofSeconds(auth.tokenLifetimeSeconds());
        SigningKeys keys = new SigningKeys(keyTable, AuthConfig.LONGEST_TOKEN_LIFETIME, Clock.systemUTC());
        keys.current();
        SmartAuthority authority = new SmartAuthority(new ClientTable(database.dataSource()),
            new AssertionJtiTable(database.dataSource()), new ClientKeys(), keys, issuer, lifetime, Clock.systemUTC());
        log.info("--auth smart: tokens issued as {}, {} s each", issuer, lifetime.toSeconds());
        yield FhirServer.Security.smart(Authenticator.bearer(AuthMode.SMART, new VerifiedTokenCache(
            new SmartTokenVerifier(keys, issuer, Clock.systemUTC()), Clock.systemUTC(), VERIFIED_TOKENS)), authority);
      }
      case OIDC -> {
        EdgeConfig.Oidc oidc = config.edge().oidc();
        OidcProvider provider;
        try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()) {
          provider = OidcProvider.discover(http, oidc.issuer());
        }
        log.info("--auth oidc: tokens of {} for audience {}, keys from {}", provider.issuer(), oidc.audience(),
            provider.jwksUri());
        OidcTokenVerifier verifier = new OidcTokenVerifier(provider, oidc.verifierSettings(),
            oidc.rolesFile().map(RoleScopes::read).orElse(RoleScopes.none()));
        yield FhirServer.Security.external(Authenticator.bearer(AuthMode.OIDC,
            new VerifiedTokenCache(verifier, Clock.systemUTC(), VERIFIED_TOKENS)), provider);
      }
    };
  }

  /** The configured public base URL names the issuer; without one, the installation's own id does. */
  private static String issuer(Config config, SigningKeyTable keys) {
    if (config.publicBaseUrl() != null && !config.publicBaseUrl().isBlank()) {
      return config.publicBaseUrl().replaceAll("/+$", "");
    }
    try {
      return keys.installationIssuer();
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("Reading the installation's issuer failed: " + e.getMessage(), e);
    }
  }

  /**
   * Without --base-url, links in answers (Content-Location, export manifests) are built from
   * each request's Host header, which any client chooses: fine on loopback, not in front of others.
   */
  private static void warnIfLinksFollowHost(Config config) {
    if (config.publicBaseUrl() != null && !config.publicBaseUrl().isBlank()) {
      return;
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(config.host()).isLoopbackAddress();
    } catch (UnknownHostException e) {
      loopback = false;
    }
    if (!loopback) {
      log.warn("Listening on {} without --base-url: links in responses and export manifests follow each request's"
          + " Host header, which the client chooses; set --base-url to the server's public FHIR base", config.host());
    }
  }

  /** An executor and the name its threads carry, for the log when it does not stop. */
  private record NamedExecutor(String name, ExecutorService executor) {
    /** Waits for the tasks to end by themselves; false (and a WARN) when they did not within {@code limit}. */
    boolean await(Duration limit) {
      try {
        if (executor.awaitTermination(limit.toMillis(), TimeUnit.MILLISECONDS)) {
          return true;
        }
        log.warn("Executor {} did not stop within {} ms", name, limit.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return false;
    }
  }

  /** A virtual-thread executor whose threads carry the name, recorded for shutdown. */
  private static NamedExecutor named(List<NamedExecutor> executors, String prefix) {
    return named(executors, prefix, Thread.ofVirtual().name(prefix, 0).factory());
  }

  /** An executor of a thread per task from {@code threads}, recorded for shutdown. */
  private static NamedExecutor named(List<NamedExecutor> executors, String prefix, ThreadFactory threads) {
    NamedExecutor e = new NamedExecutor(prefix + "*", Executors.newThreadPerTaskExecutor(threads));
    executors.add(e);
    return e;
  }

  /** Names this process in leases: host, pid and a random part (pids repeat across restarts). */
  private static String processId() {
    String host;
    try {
      host = java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.net.UnknownHostException e) {
      host = "unknown-host";
    }
    return host + "-" + ProcessHandle.current().pid() + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  /** Interrupts what still runs, in reverse order of creation, and waits for each a bounded time. */
  private static void stop(List<NamedExecutor> executors) {
    for (NamedExecutor e : executors.reversed()) {
      e.executor().shutdownNow();
    }
    for (NamedExecutor e : executors.reversed()) {
      e.await(EXECUTOR_STOP);
    }
  }

  /** For tests and tools that inspect the database directly. */
  public javax.sql.DataSource dataSource() {
    return database.dataSource();
  }

  public int port() {
    return server.port();
  }

  /**
   * Closes this server when the JVM exits (SIGTERM, Ctrl-C), its embedded PostgreSQL last, then
   * runs {@code after}.
   */
  public void closeOnExit(Runnable after) {
    database.closedByOwnerAtExit();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      close();
      after.run();
    }, "sluice-shutdown"));
  }

  /**
   * Stops taking requests, lets the workers give their parts back, then closes the pools and
   * only then the embedded PostgreSQL (whatever failed before), so that no connection of this
   * server is cut by the database's shutdown.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    log.info("Stopping Sluice");
    try {
      server.close();
      // parts in progress notice at their next lease tick and give themselves back
      exportWorkers.close();
      // an import part stops before its next batch and gives itself back
      importWorkers.close();
      exportLoops.executor().shutdown();
      exportLoops.await(exportStop);
      stop(executors);
      gcMetrics.close();
    } finally {
      try {
        database.close();
      } finally {
        auditFile.ifPresent(AuditFile::close);
      }
    }
    log.info("Sluice stopped");
  }
}

package dev.sluice.http;

import dev.sluice.auth.Authenticator;
import dev.sluice.auth.OidcProvider;
import dev.sluice.auth.Caller;
import dev.sluice.auth.InvalidTokenException;
import dev.sluice.auth.SmartAuthority;
import dev.sluice.export.ExportJobs;
import dev.sluice.export.ExportTypes;
import dev.sluice.export.LocalOutputStore;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Issue;
import dev.sluice.fhir.MessageCode;
import dev.sluice.fhir.PatientCompartment;
import dev.sluice.fhir.SearchParameters;
import dev.sluice.search.SearchParser;
import dev.sluice.store.ResourceSearch;
import dev.sluice.store.Database;
import dev.sluice.store.ResourceStore;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import java.time.Clock;
import jakarta.servlet.DispatcherType;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.eclipse.jetty.http.BadMessageException;
import org.eclipse.jetty.server.CustomRequestLog;
import org.eclipse.jetty.server.Slf4jRequestLogWriter;
import org.eclipse.jetty.servlet.FilterHolder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The HTTP server: the route table of the FHIR API, error mapping, health and metrics. */
public final class FhirServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(FhirServer.class);

  /**
   * @param publicBaseUrl the base URL for links (ending in /fhir), or null to derive it per request
   * @param accessLog one line per request on the logger {@code sluice.access}
   * @param tls the certificate and key to serve HTTPS with, or empty for plain HTTP
   * @param managementPort the port of probes and metrics (plain HTTP, same host), or empty for the FHIR port
   */
  public record Settings(String host, int port, String publicBaseUrl, long maxBodyBytes, boolean accessLog,
      Optional<TlsFiles> tls, OptionalInt managementPort) {}

  /**
   * The access log's line, in Jetty's CustomRequestLog format: method, path without the query
   * string (which can carry search values), status, duration and bytes sent (Jetty 11 has no body-only size); no body, no header.
   */
  static final String ACCESS_LOG_FORMAT = "%m %U %s %{ms}T ms %O bytes";

  /** What search needs: the parser, the engine that runs queries, and the metadata behind them. */
  public record Search(
      SearchParser parser, ResourceSearch search, SearchParameters parameters, PatientCompartment compartment) {}

  /**
   * Who may call: the filter's {@link Authenticator}, and in {@code smart} mode the
   * authorization server whose token endpoint, keys and discovery document the server serves.
   */
  public record Security(Authenticator authenticator, SmartAuthority smart, OidcProvider provider) {
    public static Security none() {
      return new Security(Authenticator.none(), null, null);
    }

    public static Security smart(Authenticator authenticator, SmartAuthority authority) {
      return new Security(authenticator, java.util.Objects.requireNonNull(authority, "authority"), null);
    }

    /** Tokens of an external identity provider: the filter, and a discovery document naming its token endpoint. */
    public static Security external(Authenticator authenticator, OidcProvider provider) {
      return new Security(authenticator, null, java.util.Objects.requireNonNull(provider, "provider"));
    }
  }

  /** A route behind the authorization filter: it gets the caller the request's token stands for. */
  @FunctionalInterface
  interface CallerRoute {
    void handle(Context ctx, Caller caller) throws Exception;
  }

  private final Javalin app;
  /** Probes and metrics when they have a port of their own, else null (they are routes of {@link #app}). */
  private final Javalin management;
  private final Settings settings;
  private final Authenticator authenticator;
  /** The key of the methods a path takes in the details of Javalin's 405. */
  private static final String AVAILABLE_METHODS = "availableMethods";

  public FhirServer(
      Settings settings, String version, FhirModel fhir, Database database, ResourceStore store, Search search,
      ExportJobs exports, Optional<LocalOutputStore> localExportFiles, ExportTypes exportTypes,
      dev.sluice.imports.ImportJobs imports, Security security, PrometheusMeterRegistry metrics) {
    this.settings = settings;
    this.authenticator = security.authenticator();

    Responses responses = new Responses(fhir);
    BaseUrl baseUrl = new BaseUrl(settings.publicBaseUrl());
    SmartRoutes smart = security.smart() == null ? null : new SmartRoutes(security.smart(), baseUrl);
    ConditionalMatch conditional = new ConditionalMatch(search.parser(), search.search(), store);
    ScopeConstraints constraints = new ScopeConstraints(search.parser(), search.search());
    ResourceRoutes resources = new ResourceRoutes(fhir, store, conditional, responses, baseUrl, constraints);
    BundleRoutes bundles = new BundleRoutes(fhir, store, conditional, responses, baseUrl);
    SearchRoutes searches = new SearchRoutes(fhir, search.parser(), search.search(), search.compartment(), responses,
        baseUrl, constraints);
    ExportRoutes export = new ExportRoutes(exports, new ExportParams(fhir, exportTypes, search.parser()), responses, baseUrl,
        localExportFiles);
    ImportRoutes importRoutes = new ImportRoutes(imports, fhir, responses, baseUrl);
    ProviderDiscovery provider = security.provider() == null ? null : new ProviderDiscovery(security.provider());
    List<Consumer<CapabilityStatement>> declared = new ArrayList<>();
    declared.add(new SearchCapabilities(search.parameters()));
    declared.add(ExportRoutes::declare);
    declared.add(ImportRoutes::declare);
    if (provider != null) {
      declared.add(provider::declare);
    }
    Capabilities capabilities = new Capabilities(fhir, version, declared,
        smart == null ? List.of() : List.of(SmartRoutes::declare));

    AuditLog audit = new AuditLog(Clock.systemUTC());
    this.app = Javalin.create(config -> {
      config.useVirtualThreads = true;
      config.showJavalinBanner = false;
      config.http.maxRequestSize = settings.maxBodyBytes();
      config.router.ignoreTrailingSlashes = true;
      // a method a path does not take is a 405 with Allow, not a 404 that says there is nothing there
      config.http.prefer405over404 = true;
      config.requestLogger.http((ctx, ms) -> {
        record(metrics, ctx, ms);
        audit.record(ctx);
      });
      config.jetty.modifyServer(server -> server.setErrorHandler(new JettyOutcomes()));
      config.jetty.modifyServletContextHandler(handler -> {
        handler.addFilter(new FilterHolder(new BoundedBody(settings.maxBodyBytes())), "/*",
            EnumSet.of(DispatcherType.REQUEST));
        handler.addFilter(new FilterHolder(new IfNoneMatchOnReads()), "/*", EnumSet.of(DispatcherType.REQUEST));
      });
      if (settings.accessLog()) {
        Slf4jRequestLogWriter writer = new Slf4jRequestLogWriter();
        writer.setLoggerName("sluice.access");
        config.jetty.modifyServer(server -> server.setRequestLog(new CustomRequestLog(writer, ACCESS_LOG_FORMAT)));
      }
      settings.tls().ifPresent(tls -> {
        // the only connector: Javalin adds its plain HTTP one only when none is configured
        var ssl = tls.sslContextFactory();
        config.jetty.addConnector((server, http) -> {
          HttpConfiguration https = new HttpConfiguration(http);
          https.addCustomizer(new SecureRequestCustomizer());
          ServerConnector connector = new ServerConnector(server, new SslConnectionFactory(ssl, "http/1.1"),
              new HttpConnectionFactory(https));
          connector.setHost(settings.host());
          connector.setPort(settings.port());
          return connector;
        });
      });
    });

    // before routing, whose decoding of path parameters fails on a bad escape with an IllegalArgumentException,
    // and before query parameters, whose decoding drops a parameter with a bad escape (a search for all)
    app.before(ctx -> {
      Params.requireDecodable(ctx.path(), "URL path");
      Params.requireDecodable(ctx.queryString(), "query string");
    });

    // Order matters: Javalin takes the first route that matches, so literal paths come first.
    // Open without a token: probes (unless on their own port), the CapabilityStatement (it says how to get one).
    if (settings.managementPort().isPresent()) {
      this.management = Javalin.create(config -> {
        config.useVirtualThreads = true;
        config.showJavalinBanner = false;
      });
      probes(management, database, responses, metrics);
    } else {
      this.management = null;
      probes(app, database, responses, metrics);
    }
    read("/fhir/metadata", ctx -> responses.send(ctx, 200, capabilities.json(baseUrl.of(ctx))));
    if (security.provider() != null) {
      app.get("/fhir/.well-known/smart-configuration", provider::configuration);
    }
    if (smart != null) {
      app.get("/fhir/.well-known/smart-configuration", smart::configuration);
      app.post("/fhir" + SmartRoutes.TOKEN_PATH, smart::token);
      app.get("/fhir" + SmartRoutes.JWKS_PATH, smart::jwks);
    }
    // Everything else goes through the authorization filter (guarded).
    app.post("/fhir", guarded(bundles::handle));
    for (String kickOff : List.of("/fhir/$export", "/fhir/Patient/$export", "/fhir/Group/{id}/$export")) {
      // a HEAD must not start an export, and without a route of its own Javalin answers it 200
      app.head(kickOff, ctx -> {
        throw new io.javalin.http.MethodNotAllowedResponse("", java.util.Map.of(AVAILABLE_METHODS, "GET, POST"));
      });
    }
    app.get("/fhir/$export", guarded(export::system));
    app.post("/fhir/$export", guarded(export::system));
    app.get("/fhir/Patient/$export", guarded(export::patients));
    app.post("/fhir/Patient/$export", guarded(export::patients));
    app.get("/fhir/Group/{id}/$export", guarded(export::group));
    app.post("/fhir/Group/{id}/$export", guarded(export::group));
    app.post("/fhir/$import", guarded(importRoutes::kickOff));
    read("/fhir/_operations/import/{id}", guarded(importRoutes::status));
    app.delete("/fhir/_operations/import/{id}", guarded(importRoutes::cancel));
    read("/fhir/_operations/import/{id}/{file}", guarded(importRoutes::errors));
    read("/fhir/_operations/export", guarded(export::list));
    read("/fhir/_operations/export/{id}", guarded(export::status));
    app.delete("/fhir/_operations/export/{id}", guarded(export::cancel));
    read("/fhir/_operations/export/{id}/manifest/{page}", guarded(export::page));
    read("/fhir/_operations/export/{id}/{file}", guarded(export::download));
    read("/fhir/_history", guarded(resources::systemHistory));
    read("/fhir/{type}/_history", guarded(resources::typeHistory));
    read("/fhir/{type}", guarded(searches::searchType));
    app.post("/fhir/{type}/_search", guarded(searches::searchPost));
    app.post("/fhir/{type}", guarded(resources::create));
    app.put("/fhir/{type}", guarded(resources::conditionalUpdate));
    app.delete("/fhir/{type}", guarded(resources::conditionalDelete));
    read("/fhir/{type}/{id}", guarded(resources::read));
    app.put("/fhir/{type}/{id}", guarded(resources::update));
    app.delete("/fhir/{type}/{id}", guarded(resources::delete));
    read("/fhir/{type}/{id}/_history", guarded(resources::instanceHistory));
    read("/fhir/{type}/{id}/_history/{vid}", guarded(resources::vread));
    // after the _history routes, which it would otherwise shadow
    read("/fhir/Patient/{id}/{type}", guarded(searches::searchCompartment));

    app.exception(InvalidTokenException.class, (e, ctx) -> {
      // RFC 6750 section 3; the description is ours, never the token
      ctx.header("WWW-Authenticate", e.tokenGiven() ? "Bearer realm=\"sluice\", error=\"invalid_token\", error_description=\""
          + e.getMessage().replace("\"", "'") + "\"" : "Bearer realm=\"sluice\"");
      responses.outcome(ctx, 401, List.of(Issue.error(Issue.Code.LOGIN, e.getMessage())));
    });
    app.exception(FhirException.class, (e, ctx) -> {
      if (e.status() >= 500) {
        log.error("{} {} failed: {}", ctx.method(), ctx.path(), e.getMessage(), e);
      }
      responses.outcome(ctx, e.status(), e.issues());
    });
    // Jetty's parse of a request part it reads lazily, such as a query string with a bad escape
    app.exception(BadMessageException.class, (e, ctx) -> responses.outcome(ctx, e.getCode(),
        List.of(Issue.error(Issue.Code.INVALID, "The request could not be read: " + e.getReason()))));
    app.exception(HttpResponseException.class, (e, ctx) -> {
      if (e.getStatus() == 405 && e.getDetails().get(AVAILABLE_METHODS) != null) {
        ctx.header("Allow", e.getDetails().get(AVAILABLE_METHODS));
      }
      responses.outcome(ctx, e.getStatus(), List.of(Issue.error(e.getStatus() == 404 ? Issue.Code.NOT_FOUND
          : e.getStatus() == 405 ? Issue.Code.NOT_SUPPORTED
          : e.getStatus() == 413 ? Issue.Code.TOO_COSTLY : Issue.Code.PROCESSING, describe(e, ctx))));
    });
    app.exception(Exception.class, (e, ctx) -> {
      log.error("{} {} failed unexpectedly", ctx.method(), ctx.path(), e);
      responses.outcome(ctx, 500, List.of(Issue.error(Issue.Code.EXCEPTION,
          "The server failed to process the request (" + e.getClass().getSimpleName() + "); see the server log")
          .withMessage(MessageCode.INTERNAL_ERROR)));
    });
  }

  /**
   * A route that only reads: GET, and HEAD answered as the GET is (Jetty sends its headers, not
   * its body). Without a HEAD route Javalin answers any HEAD 200 where a GET route matches, a
   * resource that does not exist included.
   */
  private void read(String path, Handler handler) {
    app.get(path, handler);
    app.head(path, handler);
  }

  /** The authorization filter in front of a route: the caller, or 401 before the route runs. */
  private Handler guarded(CallerRoute route) {
    return ctx -> {
      Caller caller = authenticator.caller(ctx.header("Authorization"), ctx.ip());
      ctx.attribute(AuditLog.CALLER, caller);
      route.handle(ctx, caller);
    };
  }

  private String describe(HttpResponseException e, Context ctx) {
    return switch (e.getStatus()) {
      case 404 -> "No FHIR interaction at " + ctx.method() + " " + ctx.path();
      // the request's own method: Javalin's is INVALID for one it does not know (PROPFIND)
      case 405 -> ctx.req().getMethod() + " is not allowed on " + ctx.path()
          + (e.getDetails().get(AVAILABLE_METHODS) == null ? "" : " (allowed: " + e.getDetails().get(AVAILABLE_METHODS) + ")");
      case 413 -> "The request body is larger than the limit of " + settings.maxBodyBytes()
          + " bytes (setting --max-body-size)";
      default -> e.getMessage();
    };
  }

  private static void probes(Javalin on, Database database, Responses responses, PrometheusMeterRegistry metrics) {
    on.get("/health", ctx -> ctx.json(java.util.Map.of("status", "UP")));
    on.get("/health/ready", ctx -> ready(ctx, database, responses));
    on.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
  }

  /** Readiness: 200 only when the database accepts a new connection (liveness is /health). */
  private static void ready(Context ctx, Database database, Responses responses) {
    java.util.Optional<String> refused = database.refusesNewConnections();
    if (refused.isEmpty()) {
      ctx.json(java.util.Map.of("status", "UP", "database", "UP"));
      return;
    }
    log.warn("Not ready: the database refuses new connections: {}", refused.get());
    responses.outcome(ctx, 503, List.of(Issue.error(Issue.Code.TRANSIENT,
        "Not ready: the database does not accept new connections (" + refused.get() + ")")));
  }

  private static void record(PrometheusMeterRegistry metrics, Context ctx, float ms) {
    String route;
    try {
      route = ctx.endpointHandlerPath();
    } catch (RuntimeException e) {
      route = "unmatched";
    }
    Timer.builder("sluice.http.requests")
        .tag("method", ctx.method().name())
        .tag("route", route)
        .tag("status", Integer.toString(ctx.statusCode()))
        .register(metrics)
        .record((long) (ms * 1000), TimeUnit.MICROSECONDS);
  }

  public FhirServer start() {
    if (management != null) {
      management.start(settings.host(), settings.managementPort().getAsInt());
    }
    app.start(settings.host(), settings.port());
    return this;
  }

  public int port() {
    return app.port();
  }

  @Override
  public void close() {
    app.stop();
    if (management != null) {
      management.stop();
    }
  }
}

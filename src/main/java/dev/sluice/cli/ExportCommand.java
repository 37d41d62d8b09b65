package dev.sluice.cli;

import dev.sluice.client.Credentials;
import dev.sluice.client.ProgressDisplay;
import dev.sluice.load.IntoLoad;
import dev.sluice.pull.Arrivals;
import dev.sluice.pull.Compression;
import dev.sluice.pull.Job;
import dev.sluice.pull.KickOff;
import dev.sluice.pull.Level;
import dev.sluice.pull.Puller;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = "Export from any FHIR server with Bulk Data $export: kick off (or attach to, or resume) an export,"
        + " poll it, and download its files in parallel into a directory, checked against the manifest.")
final class ExportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--server", defaultValue = "${env:SLUICE_SERVER:-http://localhost:8080/fhir}",
      description = "The FHIR base URL (env SLUICE_SERVER; default ${DEFAULT-VALUE}).")
  URI server;

  @Option(names = "--out", defaultValue = "export",
      description = "Directory for the files, manifest.json, deleted/ and error/ (default ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--patients", description = "Kick off at Patient level (Patient/$export).")
  boolean patients;

  @Option(names = "--group", paramLabel = "ID", description = "Kick off at Group level (Group/ID/$export).")
  String group;

  @Option(names = "--post", description = "Kick off with POST and a Parameters body instead of GET.")
  boolean post;

  @Option(names = "--type", paramLabel = "TYPES", description = "_type: resource types, comma-separated.")
  String type;

  @Option(names = "--since", paramLabel = "INSTANT", description = "_since: changed after this instant.")
  String since;

  @Option(names = "--until", paramLabel = "INSTANT", description = "_until: changed up to this instant.")
  String until;

  @Option(names = "--type-filter", paramLabel = "QUERY", description = "_typeFilter, e.g. Observation?code=1234-5;"
      + " may be repeated.")
  List<String> typeFilters = new ArrayList<>();

  @Option(names = "--elements", paramLabel = "ELEMENTS", description = "_elements: the elements to keep.")
  String elements;

  @Option(names = "--include-associated-data", paramLabel = "CODES", description = "includeAssociatedData.")
  String includeAssociatedData;

  @Option(names = "--container", paramLabel = "NAME", description = "_container (Azure's extension).")
  String container;

  @Option(names = "--anonymization-config", paramLabel = "NAME",
      description = "_anonymizationConfig: de-identified export (Azure's extension).")
  String anonymizationConfig;

  @Option(names = "--param", paramLabel = "NAME=VALUE", description = "Any other kick-off parameter; may be repeated.")
  Map<String, String> params = new java.util.LinkedHashMap<>();

  @Option(names = "--lenient", description = "Ask the server to ignore parameters it does not know"
      + " (Prefer: handling=lenient).")
  boolean lenient;

  @Option(names = "--status", paramLabel = "URL", description = "Attach to a running export by its status URL"
      + " instead of kicking one off.")
  URI status;

  @Option(names = "--resume", description = "Continue the export an earlier run left in --out: nothing already"
      + " downloaded is fetched again.")
  boolean resume;

  @Option(names = "--parallel", defaultValue = "4",
      description = "Files downloaded at once (default ${DEFAULT-VALUE}).")
  int parallel;

  @Option(names = "--gzip", defaultValue = "auto", paramLabel = "WHEN", description = "Ask for gzip: auto (default:"
      + " not from this machine or a private network, where the server's compressing costs more than it saves),"
      + " always, never.", converter = GzipOption.class)
  Compression gzip;

  /** Read before the other options are parsed (Main); declared here for --help and parsing. */
  @Option(names = "--config", paramLabel = "FILE", description = "A properties file of settings named as the"
      + " options without '--' (server=https://..., type=Patient,Observation); flags and environment variables win"
      + " over it.")
  Path configFile;

  @Option(names = "--into", paramLabel = "URL", description = "Load the export into the FHIR server at this base"
      + " URL as each file arrives (by batches of PUTs, as sluice load does, or through $import with"
      + " --into-import-dir); deleted files are applied as deletions; authorized with the --into-* options.")
  URI into;

  @Option(names = "--into-import-dir", paramLabel = "DIR", description = "With --into a Sluice: its import folder as"
      + " this machine sees it; the files then go through its $import (versions and lastUpdated kept) instead of"
      + " batches.")
  Path intoImportDir;

  @Mixin
  ClientAuthOptions auth;

  @Mixin
  IntoAuthOptions intoAuth;

  @Option(names = "--scope", defaultValue = "${env:SLUICE_SCOPE:-system/*.read}",
      description = "SMART Backend Services: the scopes to ask for (env SLUICE_SCOPE; default ${DEFAULT-VALUE}).")
  String scope;

  @Override
  public Integer call() throws Exception {
    var err = spec.commandLine().getErr();
    // redirects are followed by the puller, which drops the token when one leaves the server
    HttpClient http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(Duration.ofSeconds(10))
        .build();
    try {
      Job job;
      Puller.Settings settings;
      Credentials credentials;
      Credentials intoCredentials;
      try {
        job = job();
        settings = new Puller.Settings(server, out, parallel, gzip);
        credentials = auth.given().credentials(server, scope, http);
        // a first token now: a client that cannot get one learns why before anything starts
        credentials.authorization();
        if (into == null && (intoImportDir != null || intoAuth.given().given())) {
          throw new IllegalArgumentException("--into-import-dir and the --into-* credentials go with --into");
        }
        intoCredentials = into == null ? Credentials.none() : intoAuth.given().credentials(into, intoAuth.scope, http);
        intoCredentials.authorization();
      } catch (IllegalArgumentException | IllegalStateException e) {
        err.println("sluice export: " + e.getMessage());
        return 2;
      }
      IntoLoad intoLoad = null;
      if (into != null) {
        // the target is checked before the export starts: a migration that cannot land does not begin
        Optional<IntoLoad> started = IntoLoad.start(into, intoCredentials, out, intoImportDir, http, spec.commandLine().getOut(), err);
        if (started.isEmpty()) {
          return 2;
        }
        intoLoad = started.get();
      }
      Puller puller = new Puller(settings, http, credentials, spec.commandLine().getOut(), err,
          ProgressDisplay.onTerminal());
      IntoLoad loading = intoLoad;
      Puller.Outcome outcome = puller.run(job, loading == null ? Arrivals.none() : loading::arrived);
      int code = switch (outcome) {
        case COMPLETE -> 0;
        case INCOMPLETE -> 1;
        case FAILED -> 2;
      };
      if (loading != null && loading.finish() != IntoLoad.Outcome.ALL_LOADED && code == 0) {
        code = 1;
      }
      return code;
    } finally {
      http.close();
    }
  }

  private Job job() {
    if (resume && status != null) {
      throw new IllegalArgumentException("--resume and --status do not go together: --resume reads the status URL"
          + " from --out");
    }
    if (patients && group != null) {
      throw new IllegalArgumentException("--patients and --group do not go together");
    }
    if (resume) {
      return Job.resume();
    }
    if (status != null) {
      return Job.attach(status);
    }
    List<KickOff.Param> list = new ArrayList<>();
    add(list, "_type", type);
    add(list, "_since", since);
    add(list, "_until", until);
    typeFilters.forEach(f -> add(list, "_typeFilter", f));
    add(list, "_elements", elements);
    add(list, "includeAssociatedData", includeAssociatedData);
    add(list, "_container", container);
    add(list, "_anonymizationConfig", anonymizationConfig);
    params.forEach((name, value) -> add(list, name, value));
    Level level = group != null ? Level.group(group) : patients ? Level.patients() : Level.system();
    return Job.start(new KickOff(level, post, list, lenient));
  }

  private static void add(List<KickOff.Param> list, String name, String value) {
    if (value != null) {
      list.add(new KickOff.Param(name, value));
    }
  }

  /** {@code --gzip auto|always|never}. */
  static final class GzipOption implements picocli.CommandLine.ITypeConverter<Compression> {
    @Override
    public Compression convert(String value) {
      return switch (value.toLowerCase(java.util.Locale.ROOT)) {
        case "auto" -> Compression.AUTO;
        case "always" -> Compression.ALWAYS;
        case "never" -> Compression.NEVER;
        default -> throw new picocli.CommandLine.TypeConversionException("--gzip is auto, always or never, not '"
            + value + "'");
      };
    }
  }
}

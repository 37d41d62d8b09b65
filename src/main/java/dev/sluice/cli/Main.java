package dev.sluice.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sluice} command: a FHIR R4 server built for Bulk Data export. */
@Command(
    name = "sluice",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "A FHIR R4 server built for Bulk Data $export.",
    subcommands = {ServeCommand.class, LoadCommand.class, ClientsCommand.class, KeysCommand.class, TrainCommand.class,
        UpgradeDataDirCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    int code;
    try {
      code = commandLine(System.getenv(), args).execute(args);
    } catch (IllegalArgumentException e) {
      System.err.println("sluice serve: " + e.getMessage());
      code = 2;
    }
    if (code != 0 || args.length == 0 || !"serve".equals(args[0])) {
      System.exit(code);
    }
  }

  /**
   * The command line for these arguments. For {@code serve}, the configuration file they name
   * (or SLUICE_CONFIG) is read first: it supplies the defaults the other options are parsed with.
   *
   * @throws IllegalArgumentException when that file cannot be read or names an unknown setting
   */
  static CommandLine commandLine(Map<String, String> environment, String... args) {
    CommandLine line = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    if (args.length > 0 && "serve".equals(args[0])) {
      CommandLine serve = line.getSubcommands().get("serve");
      ConfigFile.named(args, environment).ifPresent(file ->
          serve.setDefaultValueProvider(ConfigFile.read(file, serve.getCommandSpec(), environment)));
    }
    return line;
  }
}

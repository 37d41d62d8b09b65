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
    subcommands = {ServeCommand.class, LoadCommand.class, ExportCommand.class, ClientsCommand.class, KeysCommand.class,
        TrainCommand.class, UpgradeDataDirCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    int code;
    try {
      code = commandLine(System.getenv(), args).execute(args);
    } catch (IllegalArgumentException e) {
      System.err.println("sluice " + (args.length > 0 ? args[0] : "") + ": " + e.getMessage());
      code = 2;
    }
    if (code != 0 || args.length == 0 || !"serve".equals(args[0])) {
      System.exit(code);
    }
  }

  /**
   * A mistyped option or value: the error and where the options are, not picocli's whole usage (150
   * lines for serve, with the error above them out of sight).
   */
  private static int badOption(CommandLine.ParameterException e, String[] args) {
    CommandLine command = e.getCommandLine();
    java.io.PrintWriter err = command.getErr();
    String name = command.getCommandSpec().qualifiedName();
    err.println(name + ": " + e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.println("Try '" + name + " --help' for the options.");
    return command.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * The command line for these arguments. For {@code serve}, the configuration file they name
   * (or SLUICE_CONFIG), for {@code export} the one they name, is read first: it supplies the defaults the other options are parsed with.
   *
   * @throws IllegalArgumentException when that file cannot be read or names an unknown setting
   */
  static CommandLine commandLine(Map<String, String> environment, String... args) {
    CommandLine line = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
        .setParameterExceptionHandler(Main::badOption);
    if (args.length > 0 && ("serve".equals(args[0]) || "export".equals(args[0]))) {
      CommandLine command = line.getSubcommands().get(args[0]);
      // export's file is named by its flag only: SLUICE_CONFIG names the server's
      ConfigFile.named(args, "serve".equals(args[0]) ? environment : Map.of()).ifPresent(file ->
          command.setDefaultValueProvider(ConfigFile.read(file, command.getCommandSpec(), environment)));
    }
    return line;
  }
}

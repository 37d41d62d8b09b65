package dev.sluice.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sluice} command: a FHIR R4 server built for Bulk Data export. */
@Command(
    name = "sluice",
    mixinStandardHelpOptions = true,
    versionProvider = Version.class,
    description = "A FHIR R4 server built for Bulk Data $export.",
    subcommands = {ServeCommand.class, LoadCommand.class, ClientsCommand.class, KeysCommand.class, TrainCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    int code = new CommandLine(new Main())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .execute(args);
    if (code != 0 || args.length == 0 || !"serve".equals(args[0])) {
      System.exit(code);
    }
  }
}

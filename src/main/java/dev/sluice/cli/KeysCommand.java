package dev.sluice.cli;

import dev.sluice.auth.SigningKeys;
import dev.sluice.store.DataDirRefused;
import dev.sluice.store.Database;
import dev.sluice.store.SigningKeyTable;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code sluice keys rotate}: a new key signs the access tokens of --auth smart from now on. */
@Command(name = "keys", mixinStandardHelpOptions = true,
    description = "The keys an --auth smart server signs access tokens with.",
    subcommands = KeysCommand.Rotate.class)
final class KeysCommand implements Runnable {
  @Spec
  CommandSpec self;

  /** Without a subcommand: what there is to do. */
  @Override
  public void run() {
    self.commandLine().usage(self.commandLine().getErr());
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = {"Make a new signing key; running servers sign with it from their next token on.",
          "The old keys still verify (and stay published) until every token they signed has expired."})
  static final class Rotate implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    DatabaseOptions database;

    @Override
    public Integer call() {
      try (Database db = database.openForTool()) {
        String kid = new SigningKeys(new SigningKeyTable(db.dataSource()), AuthConfig.LONGEST_TOKEN_LIFETIME,
            Clock.systemUTC()).rotate();
        spec.commandLine().getOut().println("Access tokens are signed with key " + kid + " from now on");
        return 0;
      } catch (IllegalArgumentException | DataDirRefused e) {
        spec.commandLine().getErr().println("sluice keys rotate: " + e.getMessage());
        return 2;
      }
    }
  }
}

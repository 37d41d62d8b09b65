package dev.sluice.pull;

import java.nio.file.Path;

/**
 * Told of each file as soon as it is downloaded and checked (also one found complete by
 * {@code --resume}), on the download's thread, while other files may still be downloading:
 * {@code --into} loads it then. Error files are not passed on. Must return quickly.
 */
@FunctionalInterface
public interface Arrivals {
  /**
   * @param file where it lies
   * @param name its name under the output directory ({@code Patient-1.ndjson}, {@code deleted/Bundle-1.ndjson})
   * @param deletions whether it is a {@code deleted} file (Bundles of DELETE)
   */
  void arrived(Path file, String name, boolean deletions);

  static Arrivals none() {
    return (file, name, deletions) -> { };
  }
}

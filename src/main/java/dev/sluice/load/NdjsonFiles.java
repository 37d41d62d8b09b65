package dev.sluice.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The files a load reads: each given file, and every .ndjson / .ndjson.gz under each given folder. */
final class NdjsonFiles {
  private NdjsonFiles() {}

  /** @throws IllegalArgumentException naming a path that does not exist */
  static List<Path> expand(List<Path> paths) {
    List<Path> files = new ArrayList<>();
    for (Path path : paths) {
      if (Files.isDirectory(path)) {
        // links followed: a data folder is often a link to where the data lies (a loop is an error)
        try (Stream<Path> walk = Files.walk(path, FileVisitOption.FOLLOW_LINKS)) {
          walk.filter(Files::isRegularFile).filter(NdjsonFiles::isNdjson).sorted().forEach(files::add);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot list " + path, e);
        }
      } else if (Files.isRegularFile(path)) {
        files.add(path);
      } else {
        throw new IllegalArgumentException(path + " is neither a file nor a folder");
      }
    }
    return files;
  }

  static boolean isNdjson(Path file) {
    String name = file.getFileName().toString();
    return name.endsWith(".ndjson") || name.endsWith(".ndjson.gz");
  }

  static long totalSize(List<Path> files) {
    long total = 0;
    for (Path f : files) {
      try {
        total += Files.size(f);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + f, e);
      }
    }
    return total;
  }
}

package dev.sluice.load;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystemLoopException;
import java.nio.file.FileVisitOption;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The files a load reads: each given file, and every .ndjson / .ndjson.gz under each given
 * folder. Symbolic links are followed (a data folder is often a link to a mounted volume); a link
 * back up the tree is not walked round, and a file reached twice (two links, or given twice) is
 * read once. In a folder {@code sluice export} wrote (a {@code manifest.json} beside the files),
 * {@code deleted/} and {@code error/} are left out, and said: their lines are Bundles of DELETEs
 * and OperationOutcomes, which a load would refuse line by line.
 */
final class NdjsonFiles {
  private NdjsonFiles() {}

  /** The folders of an export's {@code deleted} and {@code error} files, and what each holds. */
  private static final java.util.Map<String, String> EXPORT_EXTRAS = java.util.Map.of(
      "deleted", "an export's deletions, which a load does not apply (sluice export --into applies them)",
      "error", "an export's OperationOutcomes, not resources to load");

  /** @throws IllegalArgumentException naming a path that does not exist */
  static List<Path> expand(List<Path> paths) {
    return expand(paths, notice -> { });
  }

  /**
   * @param leftOut told of each export folder's {@code deleted/} or {@code error/} left out
   * @throws IllegalArgumentException naming a path that does not exist
   */
  static List<Path> expand(List<Path> paths, java.util.function.Consumer<String> leftOut) {
    List<Path> files = new ArrayList<>();
    Set<Path> seen = new HashSet<>();
    for (Path path : paths) {
      if (Files.isDirectory(path)) {
        List<Path> found = new ArrayList<>();
        try {
          Files.walkFileTree(path, EnumSet.of(FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
              new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path folder, BasicFileAttributes attrs) throws IOException {
                  String kind = folder.getFileName() == null ? null : EXPORT_EXTRAS.get(folder.getFileName().toString());
                  if (kind != null && folder.getParent() != null
                      && Files.isRegularFile(folder.getParent().resolve("manifest.json"))) {
                    long n;
                    try (var inside = Files.walk(folder, FileVisitOption.FOLLOW_LINKS)) {
                      n = inside.filter(f -> Files.isRegularFile(f) && isNdjson(f)).count();
                    }
                    leftOut.accept("left out " + folder + " (" + n + (n == 1 ? " file): " : " files): ") + kind);
                    return FileVisitResult.SKIP_SUBTREE;
                  }
                  return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                  // a dangling link comes here with the link's own attributes: not a regular file
                  if (attrs.isRegularFile() && isNdjson(file)) {
                    found.add(file);
                  }
                  return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                  if (e instanceof FileSystemLoopException) {
                    return FileVisitResult.CONTINUE; // a link to a folder above it: already walked
                  }
                  throw e;
                }
              });
        } catch (IOException e) {
          throw new UncheckedIOException("cannot list " + path, e);
        }
        found.stream().sorted().filter(f -> seen.add(realPath(f))).forEach(files::add);
      } else if (Files.isRegularFile(path)) {
        if (seen.add(realPath(path))) {
          files.add(path);
        }
      } else {
        throw new IllegalArgumentException(path + " is neither a file nor a folder");
      }
    }
    return files;
  }

  private static Path realPath(Path file) {
    try {
      return file.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
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

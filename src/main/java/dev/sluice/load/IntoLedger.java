package dev.sluice.load;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/**
 * The files of an export directory loaded whole into a target ({@code into-loaded}: a line
 * {@code <target URL> <file name>} each, appended and forced to disk once every line of the file
 * has been answered), so that {@code --resume} skips them. A file not noted is loaded again
 * from its start: what of it reached the target before a crash is written again, which changes
 * nothing there (a PUT of unchanged content, an import of a version already stored, a delete of
 * a deleted resource).
 */
final class IntoLedger {
  static final String FILE = "into-loaded";

  private final Path file;
  private final String target;
  private final Set<String> loaded = new HashSet<>();

  private IntoLedger(Path file, String target) {
    this.file = file;
    this.target = target;
  }

  static IntoLedger open(Path dir, String target) throws IOException {
    IntoLedger ledger = new IntoLedger(dir.resolve(FILE), target);
    if (Files.exists(ledger.file)) {
      for (String line : Files.readAllLines(ledger.file, StandardCharsets.UTF_8)) {
        int space = line.lastIndexOf(' ');
        if (space > 0 && line.substring(0, space).equals(target)) {
          ledger.loaded.add(line.substring(space + 1));
        }
      }
    }
    return ledger;
  }

  synchronized boolean has(String name) {
    return loaded.contains(name);
  }

  synchronized void add(String name) throws IOException {
    Files.createDirectories(file.getParent());
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND)) {
      ByteBuffer bytes = ByteBuffer.wrap((target + " " + name + "\n").getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        ch.write(bytes);
      }
      ch.force(false);
    }
    loaded.add(name);
  }
}

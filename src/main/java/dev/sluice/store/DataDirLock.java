package dev.sluice.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The data directory belongs to one Sluice process at a time: an exclusive lock on
 * {@code <data-dir>/sluice.lock}, held for the life of the process, whose content says who
 * holds it. The operating system drops the lock when the process dies, even by {@code kill -9},
 * so a PostgreSQL found running on the directory while we hold the lock is an orphan.
 */
public final class DataDirLock implements AutoCloseable {
  static final String FILE = "sluice.lock";

  /**
   * The directories this JVM holds, with the role each was taken for. Locks belong to the process,
   * and on Linux closing any other channel on the file would release ours, so a second holder here
   * never opens it.
   */
  private static final Map<Path, String> HELD = new ConcurrentHashMap<>();

  private final Path dir;
  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(Path dir, FileChannel channel, FileLock lock) {
    this.dir = dir;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * @param role what this process does with the directory ("port 8080"), written for whoever tries next
   * @throws DataDirRefused naming the holder's pid and role
   */
  public static DataDirLock acquire(Path dataDir, String role) {
    Path dir;
    try {
      Files.createDirectories(dataDir);
      dir = dataDir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create the data directory " + dataDir, e);
    }
    String holder = HELD.putIfAbsent(dir, role);
    if (holder != null) {
      throw inUse(dataDir, ProcessHandle.current().pid() + "\n" + holder + " (this process)");
    }
    FileChannel channel = null;
    try {
      channel = FileChannel.open(dir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        throw inUse(dataDir, holder(channel));
      }
      channel.truncate(0);
      channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n" + role + "\n")
          .getBytes(StandardCharsets.US_ASCII)), 0);
      channel.force(false);
      return new DataDirLock(dir, channel, lock);
    } catch (IOException | RuntimeException e) {
      HELD.remove(dir);
      closeQuietly(channel);
      if (e instanceof IOException io) {
        throw new UncheckedIOException("cannot lock the data directory " + dataDir, io);
      }
      throw (RuntimeException) e;
    }
  }

  /** What the holder wrote: pid and role on two lines; read through the same channel (see {@link #HELD}). */
  private static String holder(FileChannel channel) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(256);
    channel.read(buf, 0);
    return new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII).trim();
  }

  private static DataDirRefused inUse(Path dataDir, String holder) {
    String[] parts = holder.split("\n", 2);
    String pid = parts[0].isEmpty() ? "unknown" : parts[0];
    String role = parts.length > 1 ? parts[1].trim() : "starting";
    return new DataDirRefused("another Sluice, pid " + pid + ", " + role + ", uses " + dataDir, role);
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel == null) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // nothing was locked through it
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      // closing the channel releases the lock in any case
    } finally {
      HELD.remove(dir);
    }
  }
}

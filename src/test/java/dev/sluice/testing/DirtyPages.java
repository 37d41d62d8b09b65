package dev.sluice.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * How many of a file's pages the kernel has not written to the disk yet (dirty or under
 * writeback), by Linux's {@code cachestat} system call (6.5 and later), made from python3 since
 * Java 21 has no way to call it. A file written less than {@code vm.dirty_expire_centisecs} ago
 * (30 s by default) and not forced still has dirty pages; a forced one has none.
 */
public final class DirtyPages {
  private static final String SCRIPT = """
      import ctypes, os, sys
      libc = ctypes.CDLL(None, use_errno=True)
      class Range(ctypes.Structure): _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]
      class Stat(ctypes.Structure): _fields_ = [(n, ctypes.c_uint64) for n in ("cache", "dirty", "writeback", "evicted", "recent")]
      for p in sys.argv[1:]:
          fd = os.open(p, os.O_RDONLY)
          s = Stat()
          if libc.syscall(451, fd, ctypes.byref(Range(0, 0)), ctypes.byref(s), 0) != 0:
              sys.exit("cachestat failed: errno %d" % ctypes.get_errno())
          os.close(fd)
          print(s.dirty + s.writeback)
      """;

  private DirtyPages() {}

  /** The pages not yet on the disk of each file, in order. */
  public static List<Long> of(List<Path> files) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of("python3", "-c", SCRIPT));
    files.forEach(f -> command.add(f.toString()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("python3's cachestat did not answer: " + out);
    }
    return out.lines().map(Long::parseLong).toList();
  }
}

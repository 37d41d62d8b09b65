package dev.sluice.pull;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The end of a run, per type: files, resources and bytes written; what failed and why. */
final class PullReport {
  private record Sum(long files, long resources, long bytes) {
    Sum plus(NdjsonCheck.Checked c) {
      return new Sum(files + 1, resources + c.lines(), bytes + c.bytes());
    }
  }

  private final Map<String, Sum> byKindAndType = new TreeMap<>();
  private final List<FileDownload.Result> results;
  private long errorIssues;
  private String firstError;
  private long failed;

  PullReport(List<FileDownload.Result> results) {
    this.results = results;
    for (FileDownload.Result r : results) {
      if (r.failure().isPresent()) {
        failed++;
        continue;
      }
      NdjsonCheck.Checked c = r.checked().orElseThrow();
      Manifest.Entry e = r.entry();
      String key = switch (e.kind()) {
        case OUTPUT -> e.type();
        case DELETED -> "deleted " + e.type();
        case ERROR -> "error " + e.type();
      };
      byKindAndType.merge(key, new Sum(0, 0, 0).plus(c), (a, b) -> new Sum(a.files + b.files,
          a.resources + b.resources, a.bytes + b.bytes));
      errorIssues += c.errors();
      if (firstError == null && c.firstError().isPresent()) {
        firstError = c.firstError().get();
      }
    }
  }

  boolean complete() {
    return failed == 0 && errorIssues == 0;
  }

  void print(PrintWriter out, java.nio.file.Path dir, String transactionTime) {
    long resources = 0;
    long bytes = 0;
    out.printf("%-28s %6s %12s %12s%n", "type", "files", "resources", "MB");
    for (var e : byKindAndType.entrySet()) {
      Sum s = e.getValue();
      out.printf("%-28s %6d %,12d %12.1f%n", e.getKey(), s.files, s.resources, s.bytes / 1e6);
      if (!e.getKey().contains(" ")) {
        resources += s.resources;
        bytes += s.bytes;
      }
    }
    for (FileDownload.Result r : results) {
      r.failure().ifPresent(why -> out.println("failed: " + why));
    }
    if (complete()) {
      out.printf("Export complete: %,d resources, %.1f MB in %s (transactionTime %s)%n", resources, bytes / 1e6, dir,
          transactionTime);
    } else if (failed > 0) {
      out.printf("Export incomplete: %d of %d files failed (listed above); run again with --resume to finish%n",
          failed, results.size());
    } else {
      out.printf("Export incomplete: the server reported %,d errors in %s (the first: %s)%n", errorIssues,
          dir.resolve("error"), firstError);
    }
    out.flush();
  }
}

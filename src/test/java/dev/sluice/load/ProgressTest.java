package dev.sluice.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressTest {
  private static LoadReport storedLines(int n) {
    LoadReport report = new LoadReport();
    for (int i = 0; i < n; i++) {
      report.stored(new NdjsonLine(Path.of("f.ndjson"), i + 1, "Patient", "p" + i, new byte[100]));
    }
    return report;
  }

  private static String show(long fileBytesRead, long linesRead, LoadReport report) {
    StringWriter out = new StringWriter();
    new Progress(new PrintWriter(out), false, 1000, new AtomicLong(fileBytesRead), new AtomicLong(linesRead), report)
        .show();
    return out.toString();
  }

  @Test
  void the_fraction_done_counts_resources_answered_not_bytes_read() {
    // 98 % of the bytes read, 980 lines among them, 430 answered: about 1,000 lines in all
    assertThat(show(980, 980, storedLines(430))).startsWith("load:  43% done, 430 of ~1,000 resources stored")
        .contains("98% of the files read");
  }

  @Test
  void once_every_file_is_read_the_total_is_exact() {
    assertThat(show(1000, 1200, storedLines(600))).startsWith("load:  50% done, 600 of 1,200 resources stored");
  }

  @Test
  void failed_lines_count_as_answered() {
    LoadReport report = storedLines(500);
    for (int i = 0; i < 500; i++) {
      report.failed("f.ndjson:" + i, "malformed JSON");
    }
    assertThat(show(1000, 1000, report)).startsWith("load: 100% done, 500 of 1,000 resources stored, 500 failed");
  }
}

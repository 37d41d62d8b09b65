package dev.sluice.testing;

import dev.sluice.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** {@code sluice load ARGS --server BASE} as the command line runs it: its exit code and what it printed. */
public record LoadRun(int exitCode, String out, String err) {

  public static LoadRun into(String base, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    String[] all = new String[args.length + 3];
    all[0] = "load";
    System.arraycopy(args, 0, all, 1, args.length);
    all[args.length + 1] = "--server";
    all[args.length + 2] = base;
    int code = new CommandLine(new Main())
        .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
        .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8))
        .execute(all);
    return new LoadRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }
}

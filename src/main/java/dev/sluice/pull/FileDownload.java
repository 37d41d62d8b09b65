package dev.sluice.pull;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Downloads one file of a manifest into {@code <name>.part}, then checks it and renames it to
 * its name. What is in the {@code .part} file is never fetched again: after a dropped
 * connection, and on a later run after a crash, the rest is asked for with {@code Range}. A
 * fresh download accepts gzip (as {@link Compression} says); a resumed one asks for the bytes as they are, since a range of
 * a gzip stream is no range of the file.
 */
final class FileDownload {
  /** Dropped connections in a row, on one file, after which it is given up. */
  static final int MAX_DROPS = 5;
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final int CHUNK = 64 * 1024;

  /** One file's end: checked, or failed with the reason. */
  record Result(Manifest.Entry entry, Optional<NdjsonCheck.Checked> checked, Optional<String> failure) {
    static Result checked(Manifest.Entry entry, NdjsonCheck.Checked checked) {
      return new Result(entry, Optional.of(checked), Optional.empty());
    }

    static Result failed(Manifest.Entry entry, String why) {
      return new Result(entry, Optional.empty(), Optional.of(why));
    }
  }

  private final ServerCalls calls;
  private final Path out;
  private final boolean withToken;
  private final Compression compression;
  private final AtomicLong fetched;

  /**
   * @param withToken the manifest's {@code requiresAccessToken}
   * @param fetched bytes received, summed over all downloads, for the progress line
   */
  FileDownload(ServerCalls calls, Path out, boolean withToken, Compression compression, AtomicLong fetched) {
    this.calls = calls;
    this.out = out;
    this.withToken = withToken;
    this.compression = compression;
    this.fetched = fetched;
  }

  Result fetch(Manifest.Entry entry) throws InterruptedException {
    Path target = out.resolve(entry.fileName());
    Path part = target.resolveSibling(target.getFileName() + ".part");
    try {
      if (!Files.exists(target)) {
        Files.createDirectories(target.getParent());
        Optional<String> failure = download(entry, part);
        if (failure.isPresent()) {
          return Result.failed(entry, failure.get());
        }
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
      NdjsonCheck.Checked checked = NdjsonCheck.check(target, entry.type());
      if (checked.problem().isPresent()) {
        return Result.failed(entry, checked.problem().get());
      }
      if (entry.count().isPresent() && entry.count().getAsLong() != checked.lines()) {
        return Result.failed(entry, entry.fileName() + " holds " + checked.lines() + " resources, the manifest says "
            + entry.count().getAsLong());
      }
      return Result.checked(entry, checked);
    } catch (IOException e) {
      return Result.failed(entry, entry.fileName() + ": " + e.getMessage());
    }
  }

  /** Fills the {@code .part} file to the end, or says why not. */
  private Optional<String> download(Manifest.Entry entry, Path part) throws IOException, InterruptedException {
    int drops = 0;
    while (true) {
      long offset = Files.exists(part) ? Files.size(part) : 0;
      HttpRequest.Builder request = HttpRequest.newBuilder(entry.url())
          .timeout(Duration.ofMinutes(10))
          .header("Accept", "application/fhir+ndjson");
      if (offset > 0) {
        request.header("Range", "bytes=" + offset + "-").header("Accept-Encoding", "identity");
      } else {
        request.header("Accept-Encoding", compression.asksFor(entry.url()) ? "gzip" : "identity");
      }
      HttpResponse<InputStream> response;
      try {
        response = calls.send(request.GET().build(), HttpResponse.BodyHandlers.ofInputStream(), withToken);
      } catch (IOException e) {
        return Optional.of(entry.fileName() + ": " + e.getMessage());
      }
      int status = response.statusCode();
      long expectedEnd;
      boolean append;
      if (status == 206 && offset > 0) {
        Matcher range = CONTENT_RANGE.matcher(response.headers().firstValue("Content-Range").orElse(""));
        if (!range.matches() || Long.parseLong(range.group(1)) != offset) {
          ServerCalls.discard(response);
          return Optional.of(entry.fileName() + ": asked for bytes from " + offset + ", the server answered "
              + response.headers().firstValue("Content-Range").orElse("no Content-Range"));
        }
        expectedEnd = range.group(3).equals("*") ? -1 : Long.parseLong(range.group(3));
        append = true;
      } else if (status == 200) {
        // the whole file: from the start, also when the server ignored the Range
        expectedEnd = gzip(response) ? -1 : response.headers().firstValueAsLong("Content-Length").orElse(-1);
        append = false;
      } else if (status == 416 && offset > 0 && rangeEnd(response) == offset) {
        ServerCalls.discard(response);
        return Optional.empty();
      } else {
        return Optional.of(entry.fileName() + ": " + entry.url() + " answered " + status + " " + text(response));
      }
      try {
        copy(response, part, append);
      } catch (IOException dropped) {
        if (++drops > MAX_DROPS) {
          return Optional.of(entry.fileName() + ": the connection dropped " + drops + " times, last: "
              + dropped.getMessage());
        }
        Thread.sleep(Math.min(1000L << drops, 30_000));
        continue;
      }
      if (expectedEnd >= 0 && Files.size(part) != expectedEnd) {
        // the server closed the body early without saying so: the rest is asked for again
        if (++drops > MAX_DROPS) {
          return Optional.of(entry.fileName() + ": ended " + drops + " times at " + Files.size(part)
              + " of " + expectedEnd + " bytes");
        }
        continue;
      }
      return Optional.empty();
    }
  }

  private void copy(HttpResponse<InputStream> response, Path part, boolean append) throws IOException {
    StandardOpenOption mode = append ? StandardOpenOption.APPEND : StandardOpenOption.TRUNCATE_EXISTING;
    try (InputStream body = gzip(response) ? new GZIPInputStream(response.body(), CHUNK) : response.body();
        FileChannel file = FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE, mode)) {
      byte[] buffer = new byte[CHUNK];
      for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
        // written straight to the file, nothing held back: what the file holds is what a resume skips
        ByteBuffer bytes = ByteBuffer.wrap(buffer, 0, n);
        while (bytes.hasRemaining()) {
          file.write(bytes);
        }
        fetched.addAndGet(n);
      }
    }
  }

  private static boolean gzip(HttpResponse<?> response) {
    return response.headers().firstValue("Content-Encoding").map(v -> v.equalsIgnoreCase("gzip")).orElse(false);
  }

  private static long rangeEnd(HttpResponse<?> response) {
    Matcher m = Pattern.compile("bytes \\*/(\\d+)").matcher(response.headers().firstValue("Content-Range").orElse(""));
    return m.matches() ? Long.parseLong(m.group(1)) : -1;
  }

  /** A short excerpt of an error answer, for the message. */
  private static String text(HttpResponse<InputStream> response) {
    try (InputStream in = response.body()) {
      String body = new String(in.readNBytes(500), StandardCharsets.UTF_8).strip();
      return body.isEmpty() ? "" : "(" + body + ")";
    } catch (IOException e) {
      return "";
    }
  }
}

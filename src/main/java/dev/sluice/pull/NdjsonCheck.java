package dev.sluice.pull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Reads a downloaded file line by line: every line must be one JSON object whose
 * {@code resourceType} is the file's type. Error files count the issues of severity error or
 * fatal, which make the export incomplete.
 */
final class NdjsonCheck {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * @param problem the first line at fault, said for the user
   * @param errors issues of severity error or fatal, in an OperationOutcome file
   * @param firstError the first of them, said for the user
   */
  record Checked(long lines, long bytes, Optional<String> problem, long errors, Optional<String> firstError) {}

  private NdjsonCheck() {}

  static Checked check(Path file, String type) throws IOException {
    long lines = 0;
    long errors = 0;
    String firstError = null;
    long number = 0;
    try (InputStream in = Files.newInputStream(file)) {
      LineBuffer line = new LineBuffer();
      while (line.next(in)) {
        number++;
        if (line.blank()) {
          continue;
        }
        String found;
        try {
          found = resourceType(line.bytes, line.length);
        } catch (JsonProcessingException e) {
          return problem(file, lines, number, "is not JSON (" + e.getOriginalMessage() + ")");
        } catch (NotAnObject e) {
          return problem(file, lines, number, "is not a JSON object");
        }
        if (!found.equals(type)) {
          return problem(file, lines, number, "is " + (found.isEmpty() ? "no resource" : "a " + found)
              + ", not a " + type);
        }
        lines++;
        if (type.equals("OperationOutcome")) {
          // error files are small: a tree is fine here
          for (JsonNode issue : JSON.readTree(line.bytes, 0, line.length).path("issue")) {
            String severity = issue.path("severity").asText("");
            if (severity.equals("error") || severity.equals("fatal")) {
              errors++;
              if (firstError == null) {
                firstError = issue.path("diagnostics").asText(issue.path("details").path("text").asText(severity));
              }
            }
          }
        }
      }
    }
    return new Checked(lines, Files.size(file), Optional.empty(), errors, Optional.ofNullable(firstError));
  }

  private static final class NotAnObject extends Exception {
    NotAnObject() {
      super(null, null, false, false);
    }
  }

  /**
   * The top-level {@code resourceType} of a line that must be exactly one JSON object, read as
   * tokens without building a tree (the check reads every byte of the export).
   */
  private static String resourceType(byte[] bytes, int length) throws IOException, NotAnObject {
    try (JsonParser p = JSON.getFactory().createParser(bytes, 0, length)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new NotAnObject();
      }
      String type = "";
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        boolean isType = p.currentName().equals("resourceType");
        JsonToken value = p.nextToken();
        if (isType && value == JsonToken.VALUE_STRING) {
          type = p.getText();
        } else {
          p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new NotAnObject();
      }
      return type;
    }
  }

  /** One line of a file at a time, as bytes (the file is UTF-8; Jackson decodes what it needs). */
  private static final class LineBuffer {
    private final byte[] chunk = new byte[64 * 1024];
    private int pos;
    private int limit;
    byte[] bytes = new byte[8192];
    int length;

    /** Reads the next line (without its end); false at the end of the file. */
    boolean next(InputStream in) throws IOException {
      length = 0;
      boolean any = false;
      while (true) {
        if (pos == limit) {
          limit = in.read(chunk);
          pos = 0;
          if (limit <= 0) {
            limit = 0;
            return any;
          }
        }
        any = true;
        int start = pos;
        while (pos < limit && chunk[pos] != '\n') {
          pos++;
        }
        append(start, pos - start);
        if (pos < limit) {
          pos++;
          return true;
        }
      }
    }

    boolean blank() {
      for (int i = 0; i < length; i++) {
        byte b = bytes[i];
        if (b != ' ' && b != '\t' && b != '\r') {
          return false;
        }
      }
      return true;
    }

    private void append(int from, int n) {
      if (length + n > bytes.length) {
        bytes = java.util.Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + n));
      }
      System.arraycopy(chunk, from, bytes, length, n);
      length += n;
    }
  }

  private static Checked problem(Path file, long lines, long number, String what) throws IOException {
    return new Checked(lines, Files.size(file), Optional.of("line " + number + " of " + file.getFileName() + " " + what),
        0, Optional.empty());
  }
}

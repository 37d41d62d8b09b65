package dev.sluice.pull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode resource;
        try {
          resource = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          return problem(file, lines, number, "is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (resource == null || !resource.isObject()) {
          return problem(file, lines, number, "is not a JSON object");
        }
        String found = resource.path("resourceType").asText("");
        if (!found.equals(type)) {
          return problem(file, lines, number, "is " + (found.isEmpty() ? "no resource" : "a " + found)
              + ", not a " + type);
        }
        lines++;
        if (type.equals("OperationOutcome")) {
          for (JsonNode issue : resource.path("issue")) {
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

  private static Checked problem(Path file, long lines, long number, String what) throws IOException {
    return new Checked(lines, Files.size(file), Optional.of("line " + number + " of " + file.getFileName() + " " + what),
        0, Optional.empty());
  }
}

package dev.sluice.pull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/** A completed export's manifest: the files of output, of deleted resources and of errors. */
record Manifest(String transactionTime, boolean requiresAccessToken, List<Entry> files) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The three lists of a manifest, each written to its own place under the output directory. */
  enum Kind {
    OUTPUT("output", ""), DELETED("deleted", "deleted/"), ERROR("error", "error/");

    final String field;
    final String directory;

    Kind(String field, String directory) {
      this.field = field;
      this.directory = directory;
    }
  }

  /**
   * One file: its resource type (every line must be a resource of it), where it lies, and how
   * many resources the server says it holds, when it says.
   */
  record Entry(Kind kind, String type, URI url, OptionalLong count, int number) {
    /** Where it is written, relative to the output directory: the same name on every run. */
    String fileName() {
      return kind.directory + type + "-" + number + ".ndjson";
    }
  }

  /**
   * @param statusUrl the URL the manifest came from, against which relative file URLs resolve
   * @throws IllegalArgumentException when it is not a manifest
   */
  static Manifest parse(String json, URI statusUrl) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the manifest is not JSON: " + e.getOriginalMessage(), e);
    }
    if (root == null || !root.isObject() || !root.path("output").isArray()) {
      throw new IllegalArgumentException("the manifest has no output list");
    }
    List<Entry> files = new ArrayList<>();
    java.util.Map<String, Integer> numbers = new java.util.HashMap<>();
    for (Kind kind : Kind.values()) {
      for (JsonNode file : root.path(kind.field)) {
        String type = file.path("type").asText("");
        String url = file.path("url").asText("");
        if (type.isEmpty() || url.isEmpty()) {
          throw new IllegalArgumentException("a file of the manifest's " + kind.field + " has no type or url: " + file);
        }
        if (!type.matches("[A-Z][A-Za-z]{0,63}")) {
          throw new IllegalArgumentException("the manifest names a file of type '" + type + "', not a resource type");
        }
        OptionalLong count = file.path("count").isIntegralNumber() ? OptionalLong.of(file.path("count").asLong())
            : OptionalLong.empty();
        int number = numbers.merge(kind.directory + type, 1, Integer::sum);
        files.add(new Entry(kind, type, statusUrl.resolve(url), count, number));
      }
    }
    return new Manifest(root.path("transactionTime").asText(""), root.path("requiresAccessToken").asBoolean(false),
        List.copyOf(files));
  }
}

package dev.sluice.load;

import java.nio.file.Path;

/**
 * One resource line of an NDJSON file, checked to be a JSON object with a resourceType and an
 * id.
 *
 * @param bytes the line as read (UTF-8, without its line end), sent to the server as it is
 */
record NdjsonLine(Path file, long lineNumber, String type, String id, byte[] bytes) {

  String where() {
    return file + ":" + lineNumber;
  }
}

package dev.sluice.load;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The body of one load request: a FHIR batch Bundle of {@code PUT Type/id} entries, written
 * around the raw NDJSON lines without parsing them (the line check made sure each is one JSON
 * object, and type and id hold only characters that need no escaping).
 */
final class BatchBundle {
  private static final byte[] HEAD =
      "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ENTRY_HEAD = "{\"resource\":".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] REQUEST_HEAD =
      ",\"request\":{\"method\":\"PUT\",\"url\":\"".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] ENTRY_TAIL = "\"}}".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TAIL = "]}".getBytes(StandardCharsets.US_ASCII);

  private BatchBundle() {}

  static byte[] of(List<NdjsonLine> lines) {
    int size = HEAD.length + TAIL.length;
    for (NdjsonLine l : lines) {
      size += l.bytes().length + 96;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(size);
    out.writeBytes(HEAD);
    for (int i = 0; i < lines.size(); i++) {
      NdjsonLine l = lines.get(i);
      if (i > 0) {
        out.write(',');
      }
      out.writeBytes(ENTRY_HEAD);
      out.writeBytes(l.bytes());
      out.writeBytes(REQUEST_HEAD);
      out.writeBytes((l.type() + "/" + l.id()).getBytes(StandardCharsets.US_ASCII));
      out.writeBytes(ENTRY_TAIL);
    }
    out.writeBytes(TAIL);
    return out.toByteArray();
  }
}

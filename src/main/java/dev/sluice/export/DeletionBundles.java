package dev.sluice.export;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.SQLException;

/**
 * The lines of the {@code deleted} files: DELETE entries collected into transaction Bundles of
 * at most {@link #PER_BUNDLE}, so a client can replay each line as it is.
 */
final class DeletionBundles {
  /** DELETE entries per Bundle line; bounds the buffer of one line. */
  static final int PER_BUNDLE = 1_000;
  private static final JsonFactory JSON = new JsonFactory();

  private final NdjsonWriter out;
  private ByteArrayOutputStream buffer;
  private JsonGenerator gen;
  private int entries;

  DeletionBundles(NdjsonWriter out) {
    this.out = out;
  }

  void add(String type, String id) throws IOException {
    if (gen == null) {
      buffer = new ByteArrayOutputStream(64 * 1024);
      gen = JSON.createGenerator(buffer);
      gen.writeStartObject();
      gen.writeStringField("resourceType", "Bundle");
      gen.writeStringField("type", "transaction");
      gen.writeArrayFieldStart("entry");
    }
    gen.writeStartObject();
    gen.writeObjectFieldStart("request");
    gen.writeStringField("method", "DELETE");
    gen.writeStringField("url", type + "/" + id);
    gen.writeEndObject();
    gen.writeEndObject();
    if (++entries == PER_BUNDLE) {
      flush();
    }
  }

  /** Writes the Bundle collected so far, if any. */
  void flush() throws IOException {
    if (gen == null) {
      return;
    }
    gen.writeEndArray();
    gen.writeEndObject();
    gen.close();
    try {
      out.write(buffer.toByteArray());
    } catch (SQLException e) {
      throw new IOException(e);
    }
    gen = null;
    entries = 0;
  }
}

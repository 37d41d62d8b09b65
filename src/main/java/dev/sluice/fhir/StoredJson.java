package dev.sluice.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.StreamWriteFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Makes the stored form of a resource from JSON that HAPI has already parsed and checked:
 * {@code resourceType}, {@code id} and {@code meta} (with the new versionId and lastUpdated,
 * keeping the client's tags, profiles, security and source) first, then every other element
 * as sent, minified. This is a token copy with Jackson, several times cheaper than encoding the
 * HAPI model again, and it keeps numbers exactly as written (FHIR decimals carry precision).
 */
public final class StoredJson {
  // Closing a generator must not close the objects left open: the head's stays open on purpose.
  // A key twice in one object is invalid FHIR JSON that HAPI's parse lets through (last wins).
  private static final JsonFactory JSON = JsonFactory.builder()
      .disable(StreamWriteFeature.AUTO_CLOSE_CONTENT)
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .build();

  private StoredJson() {}

  /**
   * @param json one resource as a JSON object, already validated by {@link FhirModel#parse}
   *     (well-formed, no key twice in one object)
   */
  public static byte[] stamp(byte[] json, String type, String id, String versionId, String lastUpdated) {
    byte[] spliced = splice(json, type, id, versionId, lastUpdated);
    return spliced != null ? spliced : copy(json, type, id, versionId, lastUpdated);
  }

  /**
   * The stamp of compact JSON (no whitespace outside strings), whose elements' bytes can be
   * kept as they are: a scan of the bytes finds where each top-level element (and each element
   * of the client's meta) begins and ends, and they are copied whole. Null when the JSON is
   * not compact, or a name at those levels holds an escape; the token copy then does the work.
   * This ran for every stored resource: a byte scan is several times cheaper than tokens.
   */
  static byte[] splice(byte[] json, String type, String id, String versionId, String lastUpdated) {
    List<Member> members = members(json, 0);
    // the object must be the whole input (nothing after its closing brace)
    if (members == null || (members.isEmpty() ? json.length != 2 : members.getLast().end() != json.length - 1)) {
      return null;
    }
    Out head = head(type, id, versionId, lastUpdated, json.length + 128);
    Out rest = new Out(json.length);
    for (Member m : members) {
      if (m.is(json, "meta") && json[m.valueAt()] == '{') {
        List<Member> meta = members(json, m.valueAt());
        if (meta == null) {
          return null;
        }
        for (Member f : meta) {
          if (!f.is(json, "versionId") && !f.is(json, "lastUpdated") && !f.is(json, "_versionId")
              && !f.is(json, "_lastUpdated")) {
            head.append(',').append(json, f.nameAt(), f.end());
          }
        }
      } else if (!m.is(json, "resourceType") && !m.is(json, "id") && !m.is(json, "meta")) {
        rest.append(',').append(json, m.nameAt(), m.end());
      }
    }
    return head.append('}').append(rest).append('}').bytes();
  }

  private static Out head(String type, String id, String versionId, String lastUpdated, int capacity) {
    return new Out(capacity).append("{\"resourceType\":\"" + type + "\",\"id\":\"" + id
        + "\",\"meta\":{\"versionId\":\"" + versionId + "\",\"lastUpdated\":\"" + lastUpdated + "\"");
  }

  /**
   * Where the body of a stored resource begins: just after the lastUpdated of its head, so
   * that two versions of equal content have equal bodies. -1 when {@code stored} does not
   * start with the head of these values (a resource HAPI encoded in another form).
   */
  public static int bodyStart(byte[] stored, String type, String id, String versionId, String lastUpdated) {
    byte[] head = head(type, id, versionId, lastUpdated, 128).bytes();
    return stored.length > head.length && Arrays.equals(stored, 0, head.length, head, 0, head.length)
        ? head.length : -1;
  }

  /** {@code stored}, whose body begins at {@code bodyStart}, stamped with another versionId and lastUpdated. */
  public static byte[] restamp(byte[] stored, int bodyStart, String type, String id, String versionId,
      String lastUpdated) {
    return head(type, id, versionId, lastUpdated, stored.length + 16).append(stored, bodyStart, stored.length).bytes();
  }

  /**
   * One element of an object: its name runs from {@code nameAt} (the opening quote) to
   * {@code valueAt - 1} (the colon), its value from {@code valueAt} to {@code end} (exclusive).
   */
  private record Member(int nameAt, int valueAt, int end) {
    boolean is(byte[] json, String name) {
      return JsonBytes.stringIs(json, nameAt, valueAt - 1, name);
    }
  }


  /**
   * The elements of the object opening at {@code open}; null when whitespace stands outside a
   * string, a name holds an escape, or the bytes are not one object there.
   */
  private static List<Member> members(byte[] json, int open) {
    List<Member> members = new ArrayList<>();
    if (open >= json.length || json[open] != '{') {
      return null;
    }
    int i = open + 1;
    if (i < json.length && json[i] == '}') {
      return members;
    }
    while (i < json.length && json[i] == '"') {
      int nameEnd = JsonBytes.stringEnd(json, i);
      if (nameEnd < 0 || nameEnd >= json.length || json[nameEnd] != ':' || JsonBytes.hasEscape(json, i, nameEnd)) {
        return null;
      }
      int end = valueEnd(json, nameEnd + 1);
      if (end < 0 || end >= json.length) {
        return null;
      }
      members.add(new Member(i, nameEnd + 1, end));
      if (json[end] == '}') {
        return members;
      }
      if (json[end] != ',') {
        return null;
      }
      i = end + 1;
    }
    return null;
  }


  /** Just past the value starting at {@code at}: its comma or closing brace; -1 on whitespace or no end. */
  private static int valueEnd(byte[] json, int at) {
    int depth = 0;
    for (int i = at; i < json.length; i++) {
      switch (json[i]) {
        case '"' -> {
          int after = JsonBytes.stringEnd(json, i);
          if (after < 0) {
            return -1;
          }
          i = after - 1;
        }
        case '{', '[' -> depth++;
        case '}', ']' -> {
          if (depth == 0) {
            return i;
          }
          depth--;
        }
        case ',' -> {
          if (depth == 0) {
            return i;
          }
        }
        case ' ', '\n', '\r', '\t' -> {
          return -1;
        }
        default -> { }
      }
    }
    return -1;
  }


  /** A growing byte buffer without the synchronization of ByteArrayOutputStream. */
  private static final class Out {
    private byte[] bytes;
    private int size;

    Out(int capacity) {
      bytes = new byte[Math.max(capacity, 16)];
    }

    Out append(char ascii) {
      ensure(1);
      bytes[size++] = (byte) ascii;
      return this;
    }

    Out append(String s) {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      return append(b, 0, b.length);
    }

    Out append(byte[] b, int from, int to) {
      ensure(to - from);
      System.arraycopy(b, from, bytes, size, to - from);
      size += to - from;
      return this;
    }

    Out append(Out other) {
      return append(other.bytes, 0, other.size);
    }

    private void ensure(int more) {
      if (size + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
      }
    }

    byte[] bytes() {
      return size == bytes.length ? bytes : Arrays.copyOf(bytes, size);
    }
  }

  private static void write(ByteArrayOutputStream out, String ascii) {
    out.writeBytes(ascii.getBytes(StandardCharsets.UTF_8));
  }

  /** Any JSON: a token copy, which also minifies. */
  private static byte[] copy(byte[] json, String type, String id, String versionId, String lastUpdated) {
    // One pass: the client's meta is copied into the head as soon as it is met; every other
    // element goes to a second buffer that is appended after the head.
    ByteArrayOutputStream head = new ByteArrayOutputStream(256);
    ByteArrayOutputStream rest = new ByteArrayOutputStream(json.length + 16);
    try (JsonGenerator meta = JSON.createGenerator(head);
        JsonGenerator others = JSON.createGenerator(rest);
        JsonParser p = JSON.createParser(json)) {
      meta.writeStartObject();
      meta.writeStringField("resourceType", type);
      meta.writeStringField("id", id);
      meta.writeObjectFieldStart("meta");
      meta.writeStringField("versionId", versionId);
      meta.writeStringField("lastUpdated", lastUpdated);
      others.writeStartObject();
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw FhirException.badRequest("A resource must be a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("meta") && value == JsonToken.START_OBJECT) {
          copyClientMeta(p, meta);
        } else if (name.equals("resourceType") || name.equals("id") || name.equals("meta")) {
          p.skipChildren();
        } else {
          others.writeFieldName(name);
          copyValue(p, others);
        }
      }
      meta.writeEndObject();
      meta.flush();
      others.writeEndObject();
      others.flush();
    } catch (IOException e) {
      throw FhirException.badRequest("Invalid JSON resource: " + e.getMessage());
    }
    byte[] tail = rest.toByteArray();
    // tail is "{...}": drop its opening brace; the head's object stays open for it
    if (tail.length > 2) {
      head.write(',');
      head.write(tail, 1, tail.length - 1);
    } else {
      head.write('}');
    }
    return head.toByteArray();
  }

  /** Copies the fields of the client's meta object (the parser is on its start) but versionId and lastUpdated. */
  private static void copyClientMeta(JsonParser p, JsonGenerator gen) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      p.nextToken();
      if (field.equals("versionId") || field.equals("lastUpdated")
          || field.equals("_versionId") || field.equals("_lastUpdated")) {
        p.skipChildren();
      } else {
        gen.writeFieldName(field);
        copyValue(p, gen);
      }
    }
  }

  /** Copies the value at the parser's current token, numbers as their exact text. */
  private static void copyValue(JsonParser p, JsonGenerator gen) throws IOException {
    int depth = 0;
    do {
      JsonToken t = p.currentToken();
      switch (t) {
        case START_OBJECT -> {
          gen.writeStartObject();
          depth++;
        }
        case START_ARRAY -> {
          gen.writeStartArray();
          depth++;
        }
        case END_OBJECT -> {
          gen.writeEndObject();
          depth--;
        }
        case END_ARRAY -> {
          gen.writeEndArray();
          depth--;
        }
        case FIELD_NAME -> gen.writeFieldName(p.currentName());
        case VALUE_STRING -> gen.writeString(p.getTextCharacters(), p.getTextOffset(), p.getTextLength());
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> gen.writeNumber(p.getText());
        case VALUE_TRUE -> gen.writeBoolean(true);
        case VALUE_FALSE -> gen.writeBoolean(false);
        case VALUE_NULL -> gen.writeNull();
        default -> throw new IOException("unexpected JSON token " + t);
      }
    } while (depth > 0 && p.nextToken() != null);
  }
}

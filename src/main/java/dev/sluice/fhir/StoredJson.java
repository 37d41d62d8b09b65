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
   */
  public static byte[] stamp(byte[] json, String type, String id, String versionId, String lastUpdated) {
    return isCompact(json) ? splice(json, type, id, versionId, lastUpdated) : copy(json, type, id, versionId, lastUpdated);
  }

  /** True when no whitespace stands outside a string: each element's bytes can be kept as they are. */
  static boolean isCompact(byte[] json) {
    boolean inString = false;
    for (int i = 0; i < json.length; i++) {
      byte b = json[i];
      if (inString) {
        if (b == '\\') {
          i++;
        } else if (b == '"') {
          inString = false;
        }
      } else if (b == '"') {
        inString = true;
      } else if (b == ' ' || b == '\n' || b == '\r' || b == '\t') {
        return false;
      }
    }
    return true;
  }

  /**
   * The compact form's stamp: Jackson finds where each top-level element (and each element of
   * the client's meta) begins and ends, and their bytes are copied whole. In compact JSON an
   * element ends one byte before the next name (its comma) or at the closing brace.
   */
  private static byte[] splice(byte[] json, String type, String id, String versionId, String lastUpdated) {
    ByteArrayOutputStream head = new ByteArrayOutputStream(json.length + 128);
    ByteArrayOutputStream rest = new ByteArrayOutputStream(json.length);
    write(head, "{\"resourceType\":\"" + type + "\",\"id\":\"" + id + "\",\"meta\":{\"versionId\":\"" + versionId
        + "\",\"lastUpdated\":\"" + lastUpdated + "\"");
    try (JsonParser p = JSON.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw FhirException.badRequest("A resource must be a JSON object");
      }
      JsonToken t = p.nextToken();
      while (t == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        int nameAt = offset(p);
        JsonToken value = p.nextToken();
        if (name.equals("meta") && value == JsonToken.START_OBJECT) {
          t = p.nextToken();
          while (t == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            int fieldAt = offset(p);
            p.nextToken();
            p.skipChildren();
            t = p.nextToken();
            if (!field.equals("versionId") && !field.equals("lastUpdated")
                && !field.equals("_versionId") && !field.equals("_lastUpdated")) {
              head.write(',');
              head.write(json, fieldAt, end(p, t) - fieldAt);
            }
          }
          t = p.nextToken();
        } else {
          p.skipChildren();
          t = p.nextToken();
          if (!name.equals("resourceType") && !name.equals("id") && !name.equals("meta")) {
            rest.write(',');
            rest.write(json, nameAt, end(p, t) - nameAt);
          }
        }
      }
      head.write('}');
      rest.writeTo(head);
      head.write('}');
    } catch (IOException e) {
      throw FhirException.badRequest("Invalid JSON resource: " + e.getMessage());
    }
    return head.toByteArray();
  }

  private static int offset(JsonParser p) {
    return (int) p.currentTokenLocation().getByteOffset();
  }

  /** Where the element before the parser's current token ends: a name follows its comma, a brace follows it. */
  private static int end(JsonParser p, JsonToken current) throws IOException {
    if (current != JsonToken.FIELD_NAME && current != JsonToken.END_OBJECT) {
      throw new IOException("unexpected JSON token " + current);
    }
    return current == JsonToken.FIELD_NAME ? offset(p) - 1 : offset(p);
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

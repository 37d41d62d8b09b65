package dev.sluice.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Makes the stored form of a resource from JSON that HAPI has already parsed and checked:
 * {@code resourceType}, {@code id} and {@code meta} (with the new versionId and lastUpdated,
 * keeping the client's tags, profiles, security and source) first, then every other element
 * as sent, minified. This is a token copy with Jackson, several times cheaper than encoding the
 * HAPI model again, and it keeps numbers exactly as written (FHIR decimals carry precision).
 */
public final class StoredJson {
  private static final JsonFactory JSON = new JsonFactory();

  private StoredJson() {}

  /**
   * @param json one resource as a JSON object, already validated by {@link FhirModel#parse}
   */
  public static byte[] stamp(byte[] json, String type, String id, String versionId, String lastUpdated) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(json.length + 128);
    try (JsonGenerator gen = JSON.createGenerator(out)) {
      gen.writeStartObject();
      gen.writeStringField("resourceType", type);
      gen.writeStringField("id", id);
      gen.writeObjectFieldStart("meta");
      gen.writeStringField("versionId", versionId);
      gen.writeStringField("lastUpdated", lastUpdated);
      copyClientMeta(json, gen);
      gen.writeEndObject();
      try (JsonParser p = JSON.createParser(json)) {
        expectObject(p);
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String name = p.currentName();
          p.nextToken();
          if (name.equals("resourceType") || name.equals("id") || name.equals("meta")) {
            p.skipChildren();
          } else {
            gen.writeFieldName(name);
            copyValue(p, gen);
          }
        }
      }
      gen.writeEndObject();
    } catch (IOException e) {
      throw FhirException.badRequest("Invalid JSON resource: " + e.getMessage());
    }
    return out.toByteArray();
  }

  private static void copyClientMeta(byte[] json, JsonGenerator gen) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      expectObject(p);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (!name.equals("meta") || value != JsonToken.START_OBJECT) {
          p.skipChildren();
          continue;
        }
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
        return;
      }
    }
  }

  private static void expectObject(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw FhirException.badRequest("A resource must be a JSON object");
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

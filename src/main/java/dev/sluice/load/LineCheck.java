package dev.sluice.load;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.util.regex.Pattern;

/**
 * A cheap client-side check of one NDJSON line: valid JSON, one object, with a
 * {@code resourceType} and an {@code id} that can go into a {@code PUT Type/id} URL. It only
 * tokenizes (no tree, no FHIR model), so a malformed line fails here alone instead of breaking
 * the parse of the whole batch Bundle on the server.
 */
final class LineCheck {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Pattern TYPE = Pattern.compile("[A-Z][A-Za-z]{0,63}");
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9\\-.]{1,64}");

  /** What the check found: the type and id, or why the line cannot be loaded. */
  sealed interface Result {}

  record Resource(String type, String id) implements Result {}

  record Invalid(String reason) implements Result {}

  private LineCheck() {}

  static Result check(byte[] line) {
    String type = null;
    String id = null;
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return new Invalid("not a JSON object");
      }
      JsonToken t;
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        if (name.equals("resourceType") || name.equals("id")) {
          if (value != JsonToken.VALUE_STRING) {
            return new Invalid("'" + name + "' is not a string");
          }
          if (name.equals("resourceType")) {
            type = p.getText();
          } else {
            id = p.getText();
          }
        } else {
          p.skipChildren();
        }
      }
      if (t != JsonToken.END_OBJECT) {
        return new Invalid("malformed JSON object");
      }
      if (p.nextToken() != null) {
        return new Invalid("more than one JSON value on the line");
      }
    } catch (JsonProcessingException e) {
      return new Invalid("malformed JSON: " + e.getOriginalMessage()
          + " (column " + e.getLocation().getColumnNr() + ")");
    } catch (IOException e) {
      return new Invalid("unreadable: " + e.getMessage());
    }
    if (type == null) {
      return new Invalid("no resourceType");
    }
    if (!TYPE.matcher(type).matches()) {
      return new Invalid("'" + type + "' is not a resource type name");
    }
    if (id == null) {
      return new Invalid("no id (the loader keeps each resource's id, so every line needs one)");
    }
    if (!ID.matcher(id).matches()) {
      return new Invalid("'" + id + "' is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')");
    }
    return new Resource(type, id);
  }
}

package dev.sluice.load;

import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.JsonBytes;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A cheap client-side check of one NDJSON line: one JSON object whose structure is sound
 * (strings closed, brackets balanced, nothing after it), with a {@code resourceType} and an
 * {@code id} that can go into a {@code PUT Type/id} URL. A line that fails here fails alone;
 * one that passes cannot change the shape of the batch Bundle it is put in, so whatever else
 * is wrong with it (a bad literal, an unknown element) the server reports for that entry, or
 * for a batch the loader then splits until the line stands alone.
 *
 * <p>A scan of the bytes, not a tokenizer: this ran for every line, and tokenizing each line
 * once here and again on the server took half the loader's CPU. Lines whose top-level names or
 * type and id hold escapes go to Jackson, which decodes them.
 */
final class LineCheck {
  private static final JsonFactory JSON = new JsonFactory();

  /** What the check found: the type and id, or why the line cannot be loaded. */
  sealed interface Result {}

  record Resource(String type, String id) implements Result {}

  record Invalid(String reason) implements Result {}

  private static final Invalid MALFORMED = new Invalid("malformed JSON object");

  private LineCheck() {}

  static Result check(byte[] line) {
    int i = space(line, 0);
    if (i == line.length || line[i] != '{') {
      return new Invalid("not a JSON object");
    }
    String type = null;
    String id = null;
    i = space(line, i + 1);
    if (i < line.length && line[i] == '}') {
      i++;
    } else {
      while (true) {
        if (i == line.length || line[i] != '"') {
          return MALFORMED;
        }
        int nameEnd = JsonBytes.stringEnd(line, i);
        if (nameEnd < 0) {
          return MALFORMED;
        }
        int colon = space(line, nameEnd);
        if (colon == line.length || line[colon] != ':') {
          return MALFORMED;
        }
        int value = space(line, colon + 1);
        int end = valueEnd(line, value);
        if (end < 0) {
          return MALFORMED;
        }
        boolean isType = JsonBytes.stringIs(line, i, nameEnd, "resourceType");
        if (isType || JsonBytes.stringIs(line, i, nameEnd, "id")) {
          if (line[value] != '"') {
            return new Invalid("'" + (isType ? "resourceType" : "id") + "' is not a string");
          }
          if (JsonBytes.hasEscape(line, value, end)) {
            return tokenized(line);
          }
          String text = new String(line, value + 1, end - value - 2, StandardCharsets.UTF_8);
          if (isType) {
            type = text;
          } else {
            id = text;
          }
        } else if (JsonBytes.hasEscape(line, i, nameEnd)) {
          return tokenized(line);
        }
        i = space(line, end);
        if (i < line.length && line[i] == ',') {
          i = space(line, i + 1);
        } else if (i < line.length && line[i] == '}') {
          i++;
          break;
        } else {
          return MALFORMED;
        }
      }
    }
    if (space(line, i) != line.length) {
      return new Invalid("more than one JSON value on the line");
    }
    return resource(type, id);
  }

  private static Result resource(String type, String id) {
    if (type == null) {
      return new Invalid("no resourceType");
    }
    if (!isTypeName(type)) {
      return new Invalid("'" + type + "' is not a resource type name");
    }
    if (id == null) {
      return new Invalid("no id (the loader keeps each resource's id, so every line needs one)");
    }
    if (!FhirModel.isValidId(id)) {
      return new Invalid("'" + id + "' is not a valid FHIR id (1 to 64 letters, digits, '-' and '.')");
    }
    return new Resource(type, id);
  }

  /** {@code [A-Z][A-Za-z]{0,63}}. */
  private static boolean isTypeName(String type) {
    if (type.isEmpty() || type.length() > 64 || type.charAt(0) < 'A' || type.charAt(0) > 'Z') {
      return false;
    }
    for (int i = 1; i < type.length(); i++) {
      char c = type.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')) {
        return false;
      }
    }
    return true;
  }

  /** The first byte at or after {@code i} that is not JSON whitespace. */
  private static int space(byte[] line, int i) {
    while (i < line.length && (line[i] == ' ' || line[i] == '\t' || line[i] == '\n' || line[i] == '\r')) {
      i++;
    }
    return i;
  }


  /**
   * Just past the value starting at {@code at}; -1 when a string does not close, brackets do not
   * balance, or there is no value. A literal ends at the first byte that cannot continue it.
   */
  private static int valueEnd(byte[] line, int at) {
    if (at == line.length) {
      return -1;
    }
    byte first = line[at];
    if (first == '"') {
      return JsonBytes.stringEnd(line, at);
    }
    if (first != '{' && first != '[') {
      return literalEnd(line, at);
    }
    // brackets must nest: a line like {"a":[}] could otherwise reshape the Bundle around it
    byte[] open = new byte[16];
    int depth = 0;
    for (int i = at; i < line.length; i++) {
      byte b = line[i];
      if (b == '"') {
        i = JsonBytes.stringEnd(line, i) - 1;
        if (i < 0) {
          return -1;
        }
      } else if (b == '{' || b == '[') {
        if (depth == open.length) {
          open = Arrays.copyOf(open, depth * 2);
        }
        open[depth++] = b;
      } else if (b == '}' || b == ']') {
        if (depth == 0 || open[depth - 1] != (b == '}' ? '{' : '[')) {
          return -1;
        }
        if (--depth == 0) {
          return i + 1;
        }
      } else if (b != ',' && b != ':' && b != ' ' && b != '\t' && b != '\n' && b != '\r') {
        i = literalEnd(line, i) - 1;
        if (i < 0) {
          return -1;
        }
      }
    }
    return -1;
  }

  /**
   * Just past a number, {@code true}, {@code false} or {@code null} at {@code at}: letters, digits,
   * signs and points only, so that no quote or bracket hides in it; -1 when there is none.
   */
  private static int literalEnd(byte[] line, int at) {
    int i = at;
    while (i < line.length && (line[i] >= 'a' && line[i] <= 'z' || line[i] >= 'A' && line[i] <= 'Z'
        || line[i] >= '0' && line[i] <= '9' || line[i] == '-' || line[i] == '+' || line[i] == '.')) {
      i++;
    }
    return i > at ? i : -1;
  }



  /** The same check by Jackson's tokens, for lines with escapes in the names or values it reads. */
  private static Result tokenized(byte[] line) {
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
        return MALFORMED;
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
    return resource(type, id);
  }
}

package dev.sluice.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.JsonParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import ca.uhn.fhir.parser.json.jackson.JacksonStructure;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;

/**
 * HAPI glue: the one R4 {@link FhirContext} (expensive to build, thread-safe once built) and
 * strict parsing. Parsers are not thread-safe but cheap, so each call makes its own.
 */
public final class FhirModel {
  // As HAPI's own JSON tree (exact decimals, nothing after the object, no length limit on
  // strings such as base64 attachments), but strict JSON: no single quotes, and a key given
  // twice in one object is an error where HAPI would keep the last. The tree finds a key given
  // twice as it inserts it, for free; the parser's own duplicate detection keeps a set per object.
  private static final ObjectMapper JSON_TREE = JsonMapper.builder(JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build())
          .build())
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS, DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
      .build();

  private final FhirContext context;
  private final JsonScalarTypes scalarTypes;
  private final Set<String> resourceTypes;

  public FhirModel() {
    this.context = FhirContext.forR4();
    this.scalarTypes = new JsonScalarTypes(context);
    this.resourceTypes = Set.copyOf(new TreeSet<>(context.getResourceTypes()));
  }

  public FhirContext context() {
    return context;
  }

  /** Every R4 resource type name, sorted. */
  public Set<String> resourceTypes() {
    return resourceTypes;
  }

  public boolean isResourceType(String type) {
    return type != null && resourceTypes.contains(type);
  }

  /**
   * @return {@code type}
   * @throws FhirException 404 when it is not an R4 resource type (a URL that names no endpoint)
   */
  public String requireType(String type) {
    if (!isResourceType(type)) {
      throw FhirException.notFound("'" + type + "' is not a FHIR R4 resource type");
    }
    return type;
  }

  /**
   * @return {@code id}
   * @throws FhirException 400 when it is not a valid FHIR id
   */
  public static String requireId(String id) {
    if (!isValidId(id)) {
      throw FhirException.badRequest(
          "'" + id + "' is not a valid id (1 to 64 letters, digits, '-' and '.')", "id");
    }
    return id;
  }

  /** {@code [A-Za-z0-9\-.]{1,64}}, checked without a regex: the indexer asks for every reference. */
  public static boolean isValidId(String id) {
    if (id == null || id.isEmpty() || id.length() > 64) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.')) {
        return false;
      }
    }
    return true;
  }

  /**
   * Parses a resource strictly: unknown elements and invalid values are errors, never dropped.
   *
   * @throws FhirException 400 naming what is wrong
   */
  public IBaseResource parse(byte[] body, Format format) {
    if (body.length == 0) {
      throw FhirException.badRequest("The request body is empty; a FHIR resource was expected");
    }
    IParser parser = newParser(format).setParserErrorHandler(new StrictErrorHandler());
    try {
      if (format == Format.JSON) {
        // HAPI would decode the bytes into characters and tokenize those; the tree built from
        // the bytes is the same one, for a third of the cost of the whole parse
        JacksonStructure structure = new JacksonStructure();
        ObjectNode tree = jsonObject(body);
        structure.setNativeObject(tree);
        IBaseResource resource = ((JsonParser) parser).parseResource(structure);
        scalarTypes.check(tree);
        return resource;
      }
      return parser.parseResource(utf8(body, format));
    } catch (DataFormatException | IllegalArgumentException | ClassCastException e) {
      throw FhirException.badRequest("Invalid " + format.name() + " resource: " + e.getMessage());
    } catch (FhirException e) {
      throw e;
    } catch (RuntimeException e) {
      // HAPI's parsers fail this way on shapes they do not expect (the checks below catch the known ones)
      throw FhirException.badRequest("Invalid " + format.name() + " resource: an element holds a value of a kind"
          + " FHIR does not allow there (" + e.getClass().getSimpleName() + " in the parser)");
    }
  }

  /**
   * The body as text, strictly: a reader would put U+FFFD for bytes that are not UTF-8 and store
   * that. (JSON is read from the bytes by Jackson, which refuses them itself.)
   */
  private static String utf8(byte[] body, Format format) {
    return StrictUtf8.decode(body).orElseThrow(() -> FhirException.badRequest("Invalid " + format.name()
        + " resource: the body holds bytes that are not UTF-8"));
  }


  /**
   * What HAPI's JSON parser does not check: it fails with a NullPointerException on an
   * extension that is not an object, keeps arrays inside arrays as they are, and takes
   * control characters in strings, which FHIR forbids (and PostgreSQL refuses NUL in text).
   */
  private static void requireFhirShape(JsonNode node, String path) {
    if (node.isObject()) {
      for (var field : node.properties()) {
        JsonNode value = field.getValue();
        String name = field.getKey();
        boolean extension = name.equals("extension") || name.equals("modifierExtension");
        if (value.isTextual()) {
          requireNoControlCharacters(value.textValue(), path, name, -1);
        } else if (value.isBigDecimal()) {
          requireKeptDecimal(value, path + "." + name);
        } else if (value.isNull()) {
          throw FhirException.badRequest("Invalid JSON resource: '" + path + "." + name + "' is null; FHIR JSON leaves"
              + " out an element that has no value", path + "." + name);
        } else if (value.isArray()) {
          requireAlignedNulls(node, name, value, path);
        }
        if (!value.isContainerNode() && !extension) {
          continue;
        }
        String at = path + "." + name;
        if (extension && !(value.isArray() && allObjects(value))) {
          throw FhirException.badRequest("Invalid JSON resource: '" + at + "' must be an array of Extension objects", at);
        }
        requireFhirShape(value, at);
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        JsonNode item = node.get(i);
        if (item.isArray()) {
          throw FhirException.badRequest("Invalid JSON resource: '" + path + "' holds an array inside an array", path);
        }
        if (item.isObject()) {
          requireFhirShape(item, path + "[" + i + "]");
        } else if (item.isTextual()) {
          requireNoControlCharacters(item.textValue(), path, null, i);
        } else if (item.isBigDecimal()) {
          requireKeptDecimal(item, path + "[" + i + "]");
        }
      }
    }
  }

  /**
   * FHIR strings hold no character below U+0020 but tab, line feed and carriage return. The
   * element's path is joined only for the message: this runs on every string of every write.
   */
  private static void requireNoControlCharacters(String text, String parent, String name, int index) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        String path = name != null ? parent + "." + name : parent + "[" + index + "]";
        throw FhirException.badRequest(String.format("Invalid JSON resource: '%s' holds the control character U+%04X,"
            + " which FHIR strings may not contain", path, (int) c), path);
      }
    }
  }

  /**
   * A null in an array only keeps a primitive and its extensions ({@code given} and
   * {@code _given}) aligned: the other array has a value at its place. HAPI reads any null as
   * absent, but the stored JSON is the JSON sent, so it would be served and exported with it.
   */
  private static void requireAlignedNulls(JsonNode parent, String name, JsonNode array, String path) {
    JsonNode partner = null;
    for (int i = 0; i < array.size(); i++) {
      if (!array.get(i).isNull()) {
        continue;
      }
      if (partner == null) {
        partner = parent.get(name.startsWith("_") ? name.substring(1) : "_" + name);
      }
      if (partner == null || !partner.isArray() || i >= partner.size() || partner.get(i).isNull()) {
        String at = path + "." + name + "[" + i + "]";
        throw FhirException.badRequest("Invalid JSON resource: '" + at + "' is null, which FHIR JSON allows only where"
            + " '" + (name.startsWith("_") ? name.substring(1) : "_" + name) + "[" + i + "]' has a value", at);
      }
    }
  }

  /** Before HAPI writes the decimal out: see {@link DecimalLimit}. */
  private static void requireKeptDecimal(JsonNode number, String path) {
    if (!DecimalLimit.fits(number.decimalValue())) {
      throw FhirException.badRequest("Invalid JSON resource: '" + path + "' holds "
          + DecimalLimit.reason(number.decimalValue()), path);
    }
  }

  private static boolean allObjects(JsonNode array) {
    for (JsonNode item : array) {
      if (!item.isObject()) {
        return false;
      }
    }
    return true;
  }

  private static ObjectNode jsonObject(byte[] body) {
    JsonNode tree;
    try {
      tree = JSON_TREE.readTree(body);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw FhirException.badRequest("Invalid JSON resource: " + e.getOriginalMessage()
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    } catch (IOException e) {
      throw FhirException.badRequest("Invalid JSON resource: " + e.getMessage());
    }
    if (!(tree instanceof ObjectNode object)) {
      throw FhirException.badRequest("Invalid JSON resource: a resource must be a JSON object");
    }
    JsonNode type = object.get("resourceType");
    requireFhirShape(object, type != null && type.isTextual() ? type.asText() : "$");
    return object;
  }

  /** Minified JSON, the form resources are stored and served in. */
  public byte[] encodeJson(IBaseResource resource) {
    return context.newJsonParser().encodeResourceToString(resource).getBytes(StandardCharsets.UTF_8);
  }

  public String encode(IBaseResource resource, Format format) {
    return newParser(format).encodeResourceToString(resource);
  }

  private IParser newParser(Format format) {
    return switch (format) {
      case JSON -> context.newJsonParser();
      case XML -> context.newXmlParser();
    };
  }
}

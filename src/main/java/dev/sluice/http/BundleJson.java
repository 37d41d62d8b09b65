package dev.sluice.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;

/**
 * Reads a batch or transaction Bundle as an envelope whose entry resources stay JSON bytes.
 * Each resource is then parsed (strictly, by HAPI) on its own: a bad entry of a batch fails
 * alone instead of failing the parse of the whole Bundle, and its bytes become the stored JSON
 * without encoding the model again. The envelope is checked as strictly as HAPI would: an
 * element Bundle does not define is an error.
 */
final class BundleJson {
  private static final JsonFactory JSON = new JsonFactory();
  private static final Set<String> BUNDLE_ELEMENTS = Set.of("id", "meta", "implicitRules", "language",
      "identifier", "timestamp", "total", "link", "signature");
  private static final Set<String> ENTRY_ELEMENTS = Set.of("id", "extension", "modifierExtension", "link",
      "search", "response");
  private static final Set<String> REQUEST_ELEMENTS = Set.of("id", "extension", "modifierExtension",
      "ifNoneMatch", "ifModifiedSince");

  /** What a Bundle holds: its type and its entries; {@code resourceType} is what it claimed to be. */
  record Envelope(String resourceType, String type, List<Entry> entries) {}

  /** One entry; every field may be null. {@code resource} is one JSON object. */
  record Entry(int index, String fullUrl, String method, String url, String ifMatch, String ifNoneExist,
      byte[] resource) {}

  private BundleJson() {}

  static Envelope read(byte[] body, FhirModel fhir, Format format) {
    if (body.length == 0) {
      throw FhirException.badRequest("The request body is empty; a batch or transaction Bundle was expected");
    }
    return format == Format.JSON ? readJson(body) : fromModel(fhir, fhir.parse(body, format));
  }

  private static Envelope fromModel(FhirModel fhir, IBaseResource parsed) {
    if (!(parsed instanceof Bundle bundle)) {
      return new Envelope(fhir.context().getResourceType(parsed), null, List.of());
    }
    List<Entry> entries = new ArrayList<>();
    List<BundleEntryComponent> list = bundle.getEntry();
    for (int i = 0; i < list.size(); i++) {
      BundleEntryComponent e = list.get(i);
      var request = e.hasRequest() ? e.getRequest() : null;
      entries.add(new Entry(i, e.hasFullUrl() ? e.getFullUrl() : null,
          request != null && request.hasMethod() ? request.getMethod().toCode() : null,
          request != null && request.hasUrl() ? request.getUrl() : null,
          request != null && request.hasIfMatch() ? request.getIfMatch() : null,
          request != null && request.hasIfNoneExist() ? request.getIfNoneExist() : null,
          e.hasResource() ? fhir.encodeJson(e.getResource()) : null));
    }
    return new Envelope("Bundle", bundle.hasType() ? bundle.getType().toCode() : null, entries);
  }

  private static Envelope readJson(byte[] body) {
    try (JsonParser p = JSON.createParser(body)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw FhirException.badRequest("Invalid JSON resource: the body is not a JSON object");
      }
      String resourceType = null;
      String type = null;
      String unknown = null;
      List<Entry> entries = new ArrayList<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken value = p.nextToken();
        switch (name) {
          case "resourceType" -> resourceType = string(p, "Bundle.resourceType");
          case "type" -> type = string(p, "Bundle.type");
          case "entry" -> {
            if (value != JsonToken.START_ARRAY) {
              throw FhirException.badRequest("Bundle.entry must be an array", "Bundle.entry");
            }
            while (p.nextToken() != JsonToken.END_ARRAY) {
              entries.add(entry(p, body, entries.size()));
            }
          }
          default -> {
            if (!BUNDLE_ELEMENTS.contains(name) && !name.startsWith("_") && unknown == null) {
              unknown = name;
            }
            p.skipChildren();
          }
        }
      }
      if (resourceType != null && !resourceType.equals("Bundle")) {
        return new Envelope(resourceType, null, List.of());
      }
      if (unknown != null) {
        throw FhirException.badRequest("Unknown element 'Bundle." + unknown + "'", "Bundle." + unknown);
      }
      if (resourceType == null) {
        throw FhirException.badRequest("Invalid JSON resource: no resourceType", "resourceType");
      }
      if (p.nextToken() != null) {
        throw FhirException.badRequest("Invalid JSON: more than one JSON value in the body");
      }
      return new Envelope(resourceType, type, entries);
    } catch (JsonProcessingException e) {
      // a limit of the parser (nesting depth, say) has no location
      var at = e.getLocation();
      throw FhirException.badRequest("Invalid JSON: " + e.getOriginalMessage()
          + (at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Entry entry(JsonParser p, byte[] body, int index) throws IOException {
    String where = "Bundle.entry[" + index + "]";
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw FhirException.badRequest(where + " must be a JSON object", where);
    }
    String fullUrl = null;
    String method = null;
    String url = null;
    String ifMatch = null;
    String ifNoneExist = null;
    byte[] resource = null;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      switch (name) {
        case "fullUrl" -> fullUrl = string(p, where + ".fullUrl");
        case "resource" -> {
          if (value != JsonToken.START_OBJECT) {
            throw FhirException.badRequest(where + ".resource must be a JSON object", where + ".resource");
          }
          int start = (int) p.currentTokenLocation().getByteOffset();
          p.skipChildren();
          int end = (int) p.currentTokenLocation().getByteOffset() + 1;
          resource = Arrays.copyOfRange(body, start, end);
        }
        case "request" -> {
          if (value != JsonToken.START_OBJECT) {
            throw FhirException.badRequest(where + ".request must be a JSON object", where + ".request");
          }
          while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            p.nextToken();
            switch (field) {
              case "method" -> method = string(p, where + ".request.method");
              case "url" -> url = string(p, where + ".request.url");
              case "ifMatch" -> ifMatch = string(p, where + ".request.ifMatch");
              case "ifNoneExist" -> ifNoneExist = string(p, where + ".request.ifNoneExist");
              default -> {
                if (!REQUEST_ELEMENTS.contains(field) && !field.startsWith("_")) {
                  throw FhirException.badRequest("Unknown element '" + where + ".request." + field + "'",
                      where + ".request." + field);
                }
                p.skipChildren();
              }
            }
          }
        }
        default -> {
          if (!ENTRY_ELEMENTS.contains(name) && !name.startsWith("_")) {
            throw FhirException.badRequest("Unknown element '" + where + "." + name + "'", where + "." + name);
          }
          p.skipChildren();
        }
      }
    }
    return new Entry(index, fullUrl, method, url, ifMatch, ifNoneExist, resource);
  }

  private static String string(JsonParser p, String where) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw FhirException.badRequest(where + " must be a string", where);
    }
    return p.getText();
  }
}

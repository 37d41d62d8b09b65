package dev.sluice.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/**
 * Writes a Bundle as JSON with the stored bytes of its resources spliced in as they are:
 * a page of search or history results is never parsed and re-serialized. Pages are bounded
 * by {@code _count}, so the bundle is built in memory.
 */
final class BundleWriter {
  private static final JsonFactory JSON = new JsonFactory();

  private final ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
  private final JsonGenerator gen;
  private boolean linksOpen;
  private boolean entriesOpen;

  BundleWriter(String type, Long total) {
    try {
      gen = JSON.createGenerator(out);
      gen.writeStartObject();
      gen.writeStringField("resourceType", "Bundle");
      gen.writeStringField("id", UUID.randomUUID().toString());
      gen.writeObjectFieldStart("meta");
      gen.writeStringField("lastUpdated", Instant.now().truncatedTo(ChronoUnit.MILLIS).toString());
      gen.writeEndObject();
      gen.writeStringField("type", type);
      if (total != null) {
        gen.writeNumberField("total", total);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Links must come before the first entry. */
  BundleWriter link(String relation, String url) {
    try {
      if (!linksOpen) {
        gen.writeArrayFieldStart("link");
        linksOpen = true;
      }
      gen.writeStartObject();
      gen.writeStringField("relation", relation);
      gen.writeStringField("url", url);
      gen.writeEndObject();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One entry. Every argument but {@code fullUrl} may be null. */
  BundleWriter entry(Entry entry) {
    try {
      openEntries();
      gen.writeStartObject();
      if (entry.fullUrl() != null) {
        gen.writeStringField("fullUrl", entry.fullUrl());
      }
      if (entry.resource() != null) {
        gen.writeFieldName("resource");
        gen.writeRawValue(new String(entry.resource(), StandardCharsets.UTF_8));
      }
      if (entry.searchMode() != null) {
        gen.writeObjectFieldStart("search");
        gen.writeStringField("mode", entry.searchMode());
        gen.writeEndObject();
      }
      if (entry.requestMethod() != null) {
        gen.writeObjectFieldStart("request");
        gen.writeStringField("method", entry.requestMethod());
        gen.writeStringField("url", entry.requestUrl());
        gen.writeEndObject();
      }
      if (entry.responseStatus() != null) {
        gen.writeObjectFieldStart("response");
        gen.writeStringField("status", entry.responseStatus());
        if (entry.location() != null) {
          gen.writeStringField("location", entry.location());
        }
        if (entry.etag() != null) {
          gen.writeStringField("etag", entry.etag());
        }
        if (entry.lastModified() != null) {
          gen.writeStringField("lastModified", entry.lastModified().toString());
        }
        if (entry.outcome() != null) {
          gen.writeFieldName("outcome");
          gen.writeRawValue(new String(entry.outcome(), StandardCharsets.UTF_8));
        }
        gen.writeEndObject();
      }
      gen.writeEndObject();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void openEntries() throws IOException {
    if (linksOpen) {
      gen.writeEndArray();
      linksOpen = false;
    }
    if (!entriesOpen) {
      gen.writeArrayFieldStart("entry");
      entriesOpen = true;
    }
  }

  byte[] finish() {
    try {
      if (linksOpen) {
        gen.writeEndArray();
      }
      if (entriesOpen) {
        gen.writeEndArray();
      }
      gen.writeEndObject();
      gen.close();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Bundle entry; null fields are left out. Made by the factories below, one per kind of entry. */
  record Entry(
      String fullUrl,
      byte[] resource,
      String searchMode,
      String requestMethod,
      String requestUrl,
      String responseStatus,
      String location,
      String etag,
      Instant lastModified,
      byte[] outcome) {

    static Entry match(String fullUrl, byte[] resource) {
      return new Entry(fullUrl, resource, "match", null, null, null, null, null, null, null);
    }

    static Entry include(String fullUrl, byte[] resource) {
      return new Entry(fullUrl, resource, "include", null, null, null, null, null, null, null);
    }

    static Entry outcome(byte[] operationOutcome) {
      return new Entry(null, operationOutcome, "outcome", null, null, null, null, null, null, null);
    }

    /** The answer to a create or update; {@code resource} null under {@code Prefer: return=minimal}. */
    static Entry written(String fullUrl, byte[] resource, String status, String location, String etag,
        Instant lastModified) {
      return new Entry(fullUrl, resource, null, null, null, status, location, etag, lastModified, null);
    }

    /** The answer to a read. */
    static Entry read(String fullUrl, byte[] resource, String etag, Instant lastModified) {
      return new Entry(fullUrl, resource, null, null, null, "200 OK", null, etag, lastModified, null);
    }

    /** The answer to a delete; {@code etag} of the deletion, null when there was nothing to delete. */
    static Entry noContent(String etag) {
      return new Entry(null, null, null, null, null, "204 No Content", null, etag, null, null);
    }

    /** The answer to an entry that failed: its status line and OperationOutcome. */
    static Entry failure(String status, byte[] operationOutcome) {
      return new Entry(null, null, null, null, null, status, null, null, null, operationOutcome);
    }

    /** One version in a history Bundle, with the request that made it and its status code. */
    static Entry history(String fullUrl, byte[] resource, String method, String url, String status, String etag,
        Instant lastModified) {
      return new Entry(fullUrl, resource, null, method, url, status, null, etag, lastModified, null);
    }

    /** The same answer again, for an entry that stands for this one: 200, nothing created twice. */
    Entry asRepeat() {
      return new Entry(fullUrl, resource, null, null, null, "200 OK", location, etag, lastModified, null);
    }
  }
}

package dev.sluice.store;

import java.time.Instant;

/**
 * One version of a resource as stored.
 *
 * @param content the exact JSON served for it; null when the version is a deletion
 * @param created true when a write made a new logical resource (for 201 vs 200)
 */
public record StoredResource(
    String type,
    String id,
    int version,
    Instant lastUpdated,
    boolean deleted,
    byte[] content,
    boolean created) {

  /**
   * No version at all: what deleting a resource that does not exist (or a conditional delete
   * that matched nothing) stands on. Version 0 has no ETag to answer with.
   */
  public static StoredResource absent(String type, String id) {
    return new StoredResource(type, id, 0, null, true, null, false);
  }

  public String etag() {
    return "W/\"" + version + "\"";
  }

  public String relativeUrl() {
    return type + "/" + id;
  }
}

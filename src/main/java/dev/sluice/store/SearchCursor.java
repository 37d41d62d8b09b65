package dev.sluice.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Where a search page starts: strictly after (or, for a previous page, before) the row with
 * these sort values and pk. Keyset paging: each page costs the same and rows that did not
 * change are never repeated or skipped between pages.
 *
 * @param sortValues the row's sort values as PostgreSQL prints them (null for none)
 */
public record SearchCursor(boolean before, List<String> sortValues, long pk) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public SearchCursor {
    sortValues = java.util.Collections.unmodifiableList(new ArrayList<>(sortValues));
  }

  public String encode() {
    List<Object> parts = new ArrayList<>();
    parts.add(before ? "b" : "a");
    parts.add(pk);
    parts.addAll(sortValues);
    try {
      return Base64.getUrlEncoder().withoutPadding().encodeToString(JSON.writeValueAsBytes(parts));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** @throws IllegalArgumentException when the token was not made by {@link #encode()} */
  public static SearchCursor decode(String token) {
    try {
      List<?> parts = JSON.readValue(Base64.getUrlDecoder().decode(token), List.class);
      if (parts.size() < 2 || !(parts.get(0) instanceof String dir) || !(parts.get(1) instanceof Number pk)) {
        throw new IllegalArgumentException("malformed search cursor");
      }
      List<String> values = new ArrayList<>();
      for (Object v : parts.subList(2, parts.size())) {
        if (v != null && !(v instanceof String)) {
          throw new IllegalArgumentException("malformed search cursor");
        }
        values.add((String) v);
      }
      return new SearchCursor(dir.equals("b"), values, pk.longValue());
    } catch (java.io.IOException | RuntimeException e) {
      throw new IllegalArgumentException("malformed search cursor", e);
    }
  }
}

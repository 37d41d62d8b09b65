package dev.sluice.export;

import dev.sluice.fhir.Sha256;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A validated kick-off: what to export. Stored with the job as JSON, so any process can run it.
 *
 * @param types the resource types asked for; empty for every type the level allows
 * @param since only versions last updated after this, or null
 * @param until the snapshot time when earlier than the kick-off ({@code _until}, Azure's {@code _till}), or null
 * @param typeFilters per type, the search queries of {@code _typeFilter} (OR'ed)
 * @param container the {@code _container} asked for, or null
 * @param elements {@code _elements}: {@code elem} or {@code Type.elem}; empty for whole resources
 * @param patients the logical ids of the {@code patient} parameter; empty for all
 * @param ignored what {@code Prefer: handling=lenient} let the export go on without, reported in the error files
 * @param requestUrl the kick-off URL, for the manifest
 * @param anonymization the de-identification configuration to apply, or null
 * @param associated {@code includeAssociatedData}: earlier versions and deleted resources too
 * @param preferences how the client asked to be answered
 * @param organizeOutputBy {@code organizeOutputBy}: the type whose instances the files are organized by
 *     ({@code Patient}, the only one served), or null for files of one type each
 */
public record ExportRequest(
    ExportLevel level,
    List<String> types,
    Instant since,
    Instant until,
    Map<String, List<String>> typeFilters,
    String container,
    List<String> elements,
    List<String> patients,
    List<Ignored> ignored,
    String requestUrl,
    Anonymization anonymization,
    Set<AssociatedData> associated,
    Preferences preferences,
    String organizeOutputBy) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public ExportRequest {
    Objects.requireNonNull(level, "level");
    types = List.copyOf(types);
    typeFilters = Map.copyOf(typeFilters);
    elements = List.copyOf(elements);
    patients = List.copyOf(patients);
    ignored = List.copyOf(ignored);
    Objects.requireNonNull(requestUrl, "requestUrl");
    Objects.requireNonNull(preferences, "preferences");
    associated = associated.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(associated));
  }

  /** True when the files are organized by patient (blocks) instead of by type. */
  public boolean organizedByPatient() {
    return organizeOutputBy != null;
  }

  public boolean includes(AssociatedData data) {
    return associated.contains(data);
  }

  public String toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.put("level", level.code());
    if (level instanceof ExportLevel.Group g) {
      n.put("group", g.groupId());
    }
    strings(n.putArray("types"), types);
    if (since != null) {
      n.put("since", since.toString());
    }
    if (until != null) {
      n.put("until", until.toString());
    }
    ObjectNode filters = n.putObject("typeFilters");
    new TreeMap<>(typeFilters).forEach((type, queries) -> strings(filters.putArray(type), queries));
    if (container != null) {
      n.put("container", container);
    }
    strings(n.putArray("elements"), elements);
    strings(n.putArray("patients"), patients);
    ArrayNode ignoredArray = n.putArray("ignored");
    for (Ignored i : ignored) {
      ObjectNode o = ignoredArray.addObject().put("parameter", i.parameter());
      if (i.value() != null) {
        o.put("value", i.value()).put("reason", i.reason());
      }
    }
    n.putObject("preferences").put("lenient", preferences.lenient())
        .put("separateStatus", preferences.separateStatus()).put("manifest", preferences.manifest().name())
        .put("partialManifests", preferences.partialManifests());
    n.put("requestUrl", requestUrl);
    if (organizeOutputBy != null) {
      n.put("organizeOutputBy", organizeOutputBy);
    }
    if (!associated.isEmpty()) {
      // in a fixed order: the JSON is also the de-duplication key
      strings(n.putArray("associated"), EnumSet.copyOf(associated).stream().map(AssociatedData::code).toList());
    }
    if (anonymization != null) {
      ObjectNode a = n.putObject("anonymization");
      a.put("config", anonymization.config());
      if (anonymization.etag() != null) {
        a.put("etag", anonymization.etag());
      }
      if (anonymization.sha256() != null) {
        a.put("sha256", anonymization.sha256());
      }
      if (anonymization.applied() != null && !anonymization.applied().equals(anonymization.sha256())) {
        a.put("applied", anonymization.applied());
        strings(a.putArray("randomKeys"), anonymization.randomKeys());
      }
    }
    return n.toString();
  }

  public static ExportRequest fromJson(String json) {
    try {
      JsonNode n = JSON.readTree(json);
      ExportLevel level = switch (n.get("level").asText()) {
        case "system" -> new ExportLevel.System();
        case "patient" -> new ExportLevel.Patients();
        case "group" -> new ExportLevel.Group(n.get("group").asText());
        default -> throw new IllegalArgumentException("unknown export level in " + json);
      };
      Map<String, List<String>> filters = new LinkedHashMap<>();
      n.get("typeFilters").fields().forEachRemaining(e -> filters.put(e.getKey(), strings(e.getValue())));
      return new ExportRequest(level, strings(n.get("types")), instant(n.get("since")), instant(n.get("until")),
          filters, n.hasNonNull("container") ? n.get("container").asText() : null, strings(n.get("elements")),
          strings(n.get("patients")), ignored(n.get("ignored")), n.get("requestUrl").asText(),
          anonymization(n.get("anonymization")), associated(n.get("associated")),
          preferences(n.get("preferences")),
          n.hasNonNull("organizeOutputBy") ? n.get("organizeOutputBy").asText() : null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * What makes two requests the same for de-duplication: everything but the URL's spelling.
   */
  public String key() {
    ObjectNode n = (ObjectNode) readTree(toJson());
    n.remove("requestUrl");
    if (n.get("anonymization") instanceof ObjectNode a) {
      // the keys a kick-off chose are the job's, not the request's: the same request again finds the job
      a.remove("applied");
      a.remove("randomKeys");
    }
    return Sha256.hex(n.toString());
  }

  private static JsonNode readTree(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void strings(ArrayNode array, List<String> values) {
    values.forEach(array::add);
  }

  private static List<String> strings(JsonNode array) {
    List<String> values = new ArrayList<>();
    if (array != null) {
      array.forEach(v -> values.add(v.asText()));
    }
    return values;
  }

  /** The base URL the kick-off reached the server under (the request URL before its level's path), or null. */
  String base() {
    String path = requestUrl.split("\\?", 2)[0];
    String operation = switch (level) {
      case ExportLevel.System s -> "/$export";
      case ExportLevel.Patients p -> "/Patient/$export";
      case ExportLevel.Group g -> "/Group/" + g.groupId() + "/$export";
    };
    return path.endsWith(operation) ? path.substring(0, path.length() - operation.length()) : null;
  }

  /** The same request for these types only (an export limited to what its client may read). */
  public ExportRequest withTypes(List<String> only) {
    return new ExportRequest(level, only, since, until, typeFilters, container, elements, patients, ignored, requestUrl,
        anonymization, associated, preferences, organizeOutputBy);
  }

  /** The same request, with the configuration it applies resolved at kick-off. */
  public ExportRequest with(Anonymization resolved) {
    return new ExportRequest(level, types, since, until, typeFilters, container, elements, patients, ignored, requestUrl,
        resolved, associated, preferences, organizeOutputBy);
  }

  /** The same request with more left out under {@code Prefer: handling=lenient}. */
  public ExportRequest ignoring(List<Ignored> more) {
    List<Ignored> all = new ArrayList<>(ignored);
    all.addAll(more);
    return new ExportRequest(level, types, since, until, typeFilters, container, elements, patients, all, requestUrl,
        anonymization, associated, preferences, organizeOutputBy);
  }

  /** Jobs queued before {@code ignored} named values held parameter names only. */
  private static List<Ignored> ignored(JsonNode array) {
    List<Ignored> ignored = new ArrayList<>();
    if (array != null) {
      for (JsonNode i : array) {
        ignored.add(i.isTextual() ? Ignored.parameter(i.asText())
            : i.hasNonNull("value") ? Ignored.value(i.get("parameter").asText(), i.get("value").asText(),
                i.get("reason").asText())
            : Ignored.parameter(i.get("parameter").asText()));
      }
    }
    return ignored;
  }

  /** Jobs queued before preferences were recorded get the defaults they were run with. */
  private static Preferences preferences(JsonNode n) {
    if (n == null || n.isNull()) {
      return Preferences.defaults();
    }
    return new Preferences(n.path("lenient").asBoolean(false), n.path("separateStatus").asBoolean(false),
        Preferences.ManifestVersion.valueOf(n.path("manifest").asText("STU3")), n.path("partialManifests").asBoolean(false));
  }

  private static Anonymization anonymization(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    String sha256 = n.hasNonNull("sha256") ? n.get("sha256").asText() : null;
    // a job queued before keys were chosen at kick-off applies its configuration as read
    return new Anonymization(n.get("config").asText(), n.hasNonNull("etag") ? n.get("etag").asText() : null,
        sha256, n.hasNonNull("applied") ? n.get("applied").asText() : sha256, strings(n.get("randomKeys")));
  }

  private static Set<AssociatedData> associated(JsonNode n) {
    Set<AssociatedData> all = EnumSet.noneOf(AssociatedData.class);
    for (String code : strings(n)) {
      all.add(AssociatedData.of(code).orElseThrow(() -> new IllegalArgumentException("unknown associated data " + code)));
    }
    return all;
  }

  private static Instant instant(JsonNode n) {
    return n == null || n.isNull() ? null : Instant.parse(n.asText());
  }
}

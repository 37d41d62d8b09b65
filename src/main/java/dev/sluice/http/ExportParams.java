package dev.sluice.http;

import dev.sluice.export.Anonymization;
import dev.sluice.export.AssociatedData;
import dev.sluice.export.ExportLevel;
import dev.sluice.export.ExportNames;
import dev.sluice.export.ExportRequest;
import dev.sluice.export.ExportTypes;
import dev.sluice.export.Ignored;
import dev.sluice.export.Preferences;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.Issue;
import dev.sluice.search.SearchParser;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Optional;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Parameters.ParametersParameterComponent;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Reference;

/**
 * The kick-off parameters of {@code $export}, from the query string (GET) or a Parameters
 * body (POST), checked one by one: every problem is a 400 naming the parameter, unless the
 * parameter is unknown and the client asked for {@code Prefer: handling=lenient}.
 */
final class ExportParams {
  static final Set<String> OUTPUT_FORMATS = Set.of("application/fhir+ndjson", "application/ndjson", "ndjson");
  static final List<String> KNOWN = List.of(
      "_outputFormat", "_since", "_until", "_till", "_type", "_typeFilter", "_container", "_elements", "patient",
      "_anonymizationConfig", "_anonymizationConfigEtag", "includeAssociatedData", "organizeOutputBy",
      "allowPartialManifests");
  /** The code system of {@code includeAssociatedData} (STU4 sends the values as Codings of it). */
  static final String ASSOCIATED_DATA_SYSTEM = "http://hl7.org/fhir/uv/bulkdata/CodeSystem/include-associated-data";
  private static final Pattern ELEMENT = Pattern.compile("([A-Z][A-Za-z]+\\.)?[a-z][A-Za-z0-9]*(\\[x\\])?");
  // _typeFilter values hold search queries, whose own commas must not split them
  private static final Pattern TYPE_FILTER_SPLIT = Pattern.compile(",(?=[A-Z][A-Za-z]+\\?)");

  private final FhirModel fhir;
  private final ExportTypes types;
  private final SearchParser search;

  ExportParams(FhirModel fhir, ExportTypes types, SearchParser search) {
    this.fhir = fhir;
    this.types = types;
    this.search = search;
  }

  /** The parameters by name, each a list of values (repeats kept apart, commas not yet split). */
  static Map<String, List<String>> fromQuery(Map<String, List<String>> query) {
    Map<String, List<String>> params = new LinkedHashMap<>();
    query.forEach((name, values) -> params.computeIfAbsent(name, n -> new ArrayList<>()).addAll(values));
    return params;
  }

  Map<String, List<String>> fromBody(byte[] body, Format format, Map<String, List<String>> query) {
    Map<String, List<String>> params = fromQuery(query);
    if (body.length == 0) {
      return params;
    }
    IBaseResource parsed = fhir.parse(body, format);
    if (!(parsed instanceof Parameters parameters)) {
      throw FhirException.badRequest("The body of a POST $export must be a Parameters resource, not a "
          + fhir.context().getResourceType(parsed), "resourceType");
    }
    List<ParametersParameterComponent> list = parameters.getParameter();
    for (int i = 0; i < list.size(); i++) {
      ParametersParameterComponent p = list.get(i);
      String where = "Parameters.parameter[" + i + "]";
      if (p.getName() == null || p.getName().isBlank()) {
        throw FhirException.badRequest(where + " has no name", where + ".name");
      }
      String value;
      if (p.getValue() instanceof Reference ref) {
        value = ref.getReference();
      } else if (p.getValue() instanceof Coding coding && p.getName().equals("includeAssociatedData")) {
        // STU4's form; STU2 and STU3 send a code
        if (coding.hasSystem() && !coding.getSystem().equals(ASSOCIATED_DATA_SYSTEM)) {
          throw FhirException.badRequest("includeAssociatedData: a Coding of the system " + ASSOCIATED_DATA_SYSTEM
              + " (or of none), got the system '" + coding.getSystem() + "'", where + ".valueCoding.system");
        }
        value = coding.getCode();
      } else if (p.getValue() instanceof PrimitiveType<?> primitive) {
        value = primitive.getValueAsString();
      } else {
        throw FhirException.badRequest("Parameter '" + p.getName() + "' needs a value[x] of a primitive type"
            + " (or valueReference for patient, valueCoding for includeAssociatedData)", where);
      }
      if (value == null || value.isBlank()) {
        throw FhirException.badRequest("Parameter '" + p.getName() + "' has no value (a valueReference needs a"
            + " reference, a primitive a value)", where);
      }
      params.computeIfAbsent(p.getName(), n -> new ArrayList<>()).add(value);
    }
    return params;
  }

  ExportRequest parse(ExportLevel level, Map<String, List<String>> params, Preferences preferences, String requestUrl) {
    boolean lenient = preferences.lenient();
    List<Ignored> ignored = new ArrayList<>();
    List<Issue> problems = new ArrayList<>();
    for (String name : params.keySet()) {
      if (!KNOWN.contains(name)) {
        if (lenient) {
          ignored.add(Ignored.parameter(name));
        } else {
          problems.add(Issue.error(Issue.Code.NOT_SUPPORTED, "The parameter '" + name + "' is not supported by $export, which knows "
              + String.join(", ", KNOWN) + " (or send Prefer: handling=lenient to have unknown ones ignored)", name));
        }
      }
    }
    String format = single(params, "_outputFormat", problems);
    if (format != null) {
      // "application/fhir+ndjson" sent unencoded: the query string's '+' arrives as a space
      format = format.replace(' ', '+');
    }
    if (format != null && !OUTPUT_FORMATS.contains(format)) {
      problems.add(Issue.error(Issue.Code.NOT_SUPPORTED, "_outputFormat '" + format
          + "' is not supported; use application/fhir+ndjson, application/ndjson or ndjson", "_outputFormat"));
    }
    Instant since = instant(params, "_since", problems);
    Instant until = instant(params, "_until", problems);
    Instant till = instant(params, "_till", problems);
    if (until != null && till != null && !until.equals(till)) {
      problems.add(Issue.error(Issue.Code.INVALID, "_until and _till (its Azure name) differ; send one of them", "_until"));
    }
    until = until != null ? until : till;
    if (since != null && until != null && !since.isBefore(until)) {
      problems.add(Issue.error(Issue.Code.INVALID, "_since must be before _until", "_since"));
    }
    List<String> typeList = new ArrayList<>();
    for (String type : values(params, "_type")) {
      if (!types.isResourceType(type)) {
        problems.add(Issue.error(Issue.Code.INVALID, "_type: '" + type + "' is not a FHIR R4 resource type", "_type"));
      } else if (!types.forLevel(level).contains(type)) {
        problems.add(Issue.error(Issue.Code.INVALID, "_type: a " + type + " is never in a Patient compartment, so a "
            + level.code() + "-level export cannot contain any; export it at system level", "_type"));
      } else if (!typeList.contains(type)) {
        typeList.add(type);
      }
    }
    Map<String, List<String>> typeFilters = new LinkedHashMap<>();
    for (String filter : values(params, "_typeFilter")) {
      int q = filter.indexOf('?');
      String type = q < 0 ? filter : filter.substring(0, q);
      List<Issue> wrong = new ArrayList<>();
      if (q < 0 || !types.isResourceType(type)) {
        wrong.add(Issue.error(Issue.Code.INVALID, "_typeFilter: '" + filter + "' is not a search such as Observation?status=final",
            "_typeFilter"));
      } else if (!types.forLevel(level).contains(type) || (!typeList.isEmpty() && !typeList.contains(type))) {
        wrong.add(Issue.error(Issue.Code.INVALID, "_typeFilter: " + type + " is not among the types this export contains",
            "_typeFilter"));
      } else {
        try {
          search.parse(type, filter.substring(q + 1)).resultParameters().stream().findFirst().ifPresent(name -> wrong.add(Issue.error(Issue.Code.INVALID,
              "_typeFilter '" + filter + "': " + name + " is not a search criterion; a _typeFilter selects the"
              + " resources an export writes, whose output is not paged, sorted, summarized or included",
              "_typeFilter")));
        } catch (FhirException e) {
          e.issues().forEach(i -> wrong.add(i.rephrased("_typeFilter '" + filter + "': " + i.diagnostics(),
              "_typeFilter")));
        }
      }
      if (wrong.isEmpty()) {
        typeFilters.computeIfAbsent(type, t -> new ArrayList<>()).add(filter.substring(q + 1));
      } else if (lenient) {
        // the filter is dropped, as if it had not been sent: the type's other filters still apply
        // (OR'ed), and a type left with none is exported whole
        ignored.add(Ignored.value("_typeFilter", filter, String.join("; ", wrong.stream().map(Issue::diagnostics).toList())
            + "; the export went on as if this filter had not been sent"));
      } else {
        problems.addAll(wrong);
      }
    }
    String container = single(params, "_container", problems);
    if (container != null && !ExportNames.isContainer(container)) {
      problems.add(Issue.error(Issue.Code.INVALID, "_container '" + container + "' is not a valid container name: use 3 to 63"
          + " lowercase letters, digits and single hyphens, starting and ending with a letter or digit", "_container"));
    }
    List<String> elements = new ArrayList<>();
    for (String e : values(params, "_elements")) {
      int dot = e.indexOf('.');
      if (!ELEMENT.matcher(e).matches() || (dot > 0 && !types.isResourceType(e.substring(0, dot)))) {
        problems.add(Issue.error(Issue.Code.INVALID, "_elements: '" + e + "' is not an element name such as 'status' or"
            + " 'Observation.code'", "_elements"));
      } else {
        elements.add(e);
      }
    }
    List<String> patients = new ArrayList<>();
    for (String p : values(params, "patient")) {
      if (level instanceof ExportLevel.System) {
        problems.add(Issue.error(Issue.Code.INVALID, "patient narrows Patient- and Group-level exports only", "patient"));
        break;
      }
      String id = p.startsWith("Patient/") ? p.substring("Patient/".length()) : p;
      if (!FhirModel.isValidId(id)) {
        problems.add(Issue.error(Issue.Code.INVALID, "patient: '" + p + "' is not a reference such as Patient/123", "patient"));
      } else if (!patients.contains(id)) {
        patients.add(id);
      }
    }
    String partial = single(params, "allowPartialManifests", problems);
    if (partial != null && !partial.equals("true") && !partial.equals("false")) {
      problems.add(Issue.error(Issue.Code.INVALID, "allowPartialManifests is true or false, got '" + partial + "'",
          "allowPartialManifests"));
    }
    String organizeBy = organizeOutputBy(level, single(params, "organizeOutputBy", problems), lenient, ignored, problems);
    Anonymization anonymization = anonymization(params, container, problems);
    if (organizeBy != null && anonymization != null) {
      // the block headers name the patients by id, which de-identification would replace in the resources only
      problems.add(Issue.error(Issue.Code.NOT_SUPPORTED, "organizeOutputBy cannot be combined with _anonymizationConfig:"
          + " the block headers would name the patients by their real ids", "organizeOutputBy"));
    }
    Set<AssociatedData> associated = associated(params, organizeBy != null, lenient, ignored, problems);
    if (associated.stream().anyMatch(AssociatedData::versions) && !typeFilters.isEmpty()) {
      // as Azure: which earlier versions or deleted resources "match" a search is not defined
      problems.add(Issue.error(Issue.Code.NOT_SUPPORTED, "includeAssociatedData=_history or _deleted cannot be combined"
          + " with _typeFilter: filter by _type, _since and _until instead", "includeAssociatedData"));
    }
    if (associated.contains(AssociatedData.DELETED) && anonymization != null) {
      problems.add(Issue.error(Issue.Code.NOT_SUPPORTED, "includeAssociatedData=_deleted cannot be combined with"
          + " _anonymizationConfig: a de-identified export lists deletions in its deleted files (with _since)",
          "includeAssociatedData"));
    }
    if (!problems.isEmpty()) {
      throw new FhirException(400, problems, null);
    }
    return new ExportRequest(level, typeList, since, until, typeFilters, container, elements, patients, ignored, requestUrl,
        anonymization, associated, preferences.withPartialManifests("true".equals(partial)), organizeBy);
  }

  /**
   * {@code organizeOutputBy}: {@code Patient} at Patient and Group level (blocks of Patient
   * compartments); another type, or system level, is 400 {@code not-supported}, or left out under
   * lenient handling; a value that is not a resource type is 400.
   */
  private String organizeOutputBy(ExportLevel level, String value, boolean lenient, List<Ignored> ignored,
      List<Issue> problems) {
    if (value == null) {
      return null;
    }
    if (!types.isResourceType(value)) {
      problems.add(Issue.error(Issue.Code.INVALID, "organizeOutputBy '" + value + "' is not a FHIR resource type",
          "organizeOutputBy"));
    } else if (!value.equals("Patient")) {
      unsupported("organizeOutputBy", value, "this server organizes output by Patient only, in blocks of Patient"
          + " compartments", lenient, ignored, problems);
    } else if (level instanceof ExportLevel.System) {
      unsupported("organizeOutputBy", value, "at system level, whose resources outside every Patient compartment"
          + " (Organization, Practitioner, Medication...) would belong to no block; ask [base]/Patient/$export or"
          + " [base]/Group/[id]/$export, and export those types apart with _type", lenient, ignored, problems);
    } else {
      return value;
    }
    return null;
  }

  /**
   * {@code includeAssociatedData}: {@code _history}, {@code _deleted}, {@code LatestProvenanceResources}
   * and {@code RelevantProvenanceResources} at every level; any other value, or any with
   * {@code organizeOutputBy}, is 400, or left out under lenient handling.
   */
  private static Set<AssociatedData> associated(Map<String, List<String>> params, boolean organized, boolean lenient,
      List<Ignored> ignored, List<Issue> problems) {
    Set<AssociatedData> associated = EnumSet.noneOf(AssociatedData.class);
    for (String value : values(params, "includeAssociatedData")) {
      Optional<AssociatedData> known = AssociatedData.of(value);
      if (known.isEmpty()) {
        unsupported("includeAssociatedData", value, "supported are _history, _deleted, LatestProvenanceResources and"
            + " RelevantProvenanceResources; this server has no custom associated data sets", lenient, ignored, problems);
      } else if (organized) {
        // the blocks are a patient's compartment at transactionTime; earlier versions, deleted
        // resources and Provenance outside it would belong to no block
        unsupported("includeAssociatedData", value, "it cannot be combined with organizeOutputBy, whose blocks hold"
            + " each patient's compartment as at transactionTime", lenient, ignored, problems);
      } else {
        associated.add(known.get());
      }
    }
    return associated;
  }

  /** A value this server cannot apply: 400, or left out and reported under lenient handling. */
  private static void unsupported(String parameter, String value, String why, boolean lenient, List<Ignored> ignored,
      List<Issue> problems) {
    if (lenient) {
      ignored.add(Ignored.value(parameter, value, "not supported: " + why));
    } else {
      problems.add(Issue.error(Issue.Code.NOT_SUPPORTED, parameter + " '" + value + "' is not supported: " + why
          + " (or send Prefer: handling=lenient to have it left out)", parameter));
    }
  }

  /** {@code _anonymizationConfig} and its ETag; like Azure, de-identified exports name their container. */
  private static Anonymization anonymization(Map<String, List<String>> params, String container, List<Issue> problems) {
    String config = single(params, "_anonymizationConfig", problems);
    String etag = single(params, "_anonymizationConfigEtag", problems);
    if (config == null) {
      if (etag != null) {
        problems.add(Issue.error(Issue.Code.INVALID, "_anonymizationConfigEtag needs _anonymizationConfig", "_anonymizationConfigEtag"));
      }
      return null;
    }
    if (!ExportNames.isConfigName(config)) {
      problems.add(Issue.error(Issue.Code.INVALID, "_anonymizationConfig '" + config + "' is not a file name of the '"
          + ExportNames.ANONYMIZATION_CONTAINER + "' container: use up to 255 letters, digits, '.', '_' and '-',"
          + " without '..' or '/'", "_anonymizationConfig"));
    }
    if (container == null) {
      problems.add(Issue.error(Issue.Code.REQUIRED, "A de-identified export (_anonymizationConfig) needs _container",
          "_container"));
    }
    return Anonymization.asked(config, etag);
  }

  /** The values of a parameter: repeats and comma lists count alike. */
  private static List<String> values(Map<String, List<String>> params, String name) {
    Set<String> values = new LinkedHashSet<>();
    for (String raw : params.getOrDefault(name, List.of())) {
      Pattern split = name.equals("_typeFilter") ? TYPE_FILTER_SPLIT : Pattern.compile(",");
      for (String v : split.split(raw)) {
        if (!v.isBlank()) {
          values.add(v.trim());
        }
      }
    }
    return new ArrayList<>(values);
  }

  private static String single(Map<String, List<String>> params, String name, List<Issue> problems) {
    List<String> values = values(params, name);
    if (values.size() > 1) {
      problems.add(Issue.error(Issue.Code.INVALID, name + " takes one value, got " + values.size(), name));
    }
    return values.isEmpty() ? null : values.getFirst();
  }

  private static Instant instant(Map<String, List<String>> params, String name, List<Issue> problems) {
    String raw = single(params, name, problems);
    if (raw == null) {
      return null;
    }
    try {
      // an unencoded "+01:00" arrives as " 01:00"
      Instant t = Params.parseInstant(raw.replace(' ', '+'), name);
      if (t.isAfter(Instant.now())) {
        problems.add(Issue.error(Issue.Code.INVALID, name + " '" + raw + "' is in the future", name));
      }
      return t;
    } catch (FhirException e) {
      problems.addAll(e.issues());
      return null;
    }
  }
}

package dev.sluice.testing;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.function.Function;

/**
 * Malformed HTTP requests for a FHIR server, made from a seed: request {@code i} of seed
 * {@code s} is the same bytes on every run (each is made from its own {@code Random}), so a
 * failure is reproduced from the two numbers alone. Kinds: resources as malformed JSON and
 * XML, batch Bundles with wrong entries, odd paths, ids and percent-encodings, bad headers,
 * huge and deep bodies, bad search and export parameters, and broken HTTP framing.
 */
public final class RequestFuzzer {
  /** One request: its bytes and a short printable form for reports. */
  public record Request(int index, byte[] bytes) {
    /** The request as text, non-printable bytes escaped, cut to {@code max} characters. */
    public String printable(int max) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < bytes.length && sb.length() < max; i++) {
        int c = bytes[i] & 0xff;
        if (c == '\n') {
          sb.append("\\n\n");
        } else if (c == '\r') {
          sb.append("\\r");
        } else if (c < 0x20 || c >= 0x7f) {
          sb.append(String.format("\\x%02x", c));
        } else {
          sb.append((char) c);
        }
      }
      return sb.length() >= max ? sb + "... (" + bytes.length + " bytes)" : sb.toString();
    }
  }

  private static final String[] TYPES = {"Patient", "Observation", "Encounter", "Group", "Bundle", "Parameters",
      "Unicorn", "patient", "OperationOutcome", "ValueSet"};
  private static final String[] METHODS = {"GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD",
      "OPTIONS", "TRACE", "FOO", "get"};
  private static final String[] ODD = {"", " ", "%00", "%u0041", "%u002e%u002e", "%u002e%u002e%u2215canary.txt",
      "%2e%2e", "..", ".", "%2f", "%5c", "%c0%af", "%ff%fe", "%e2%80%ae", "%F0%9F%98%80", "a".repeat(65),
      "a".repeat(5000), "$export", "_history", "_search", "metadata", "%zz", "%", "%%", "%2", ";", ";a=b", "?", "#",
      "//", "Patient", "%0d%0a", "%7B%7D", "'%20or%201=1--", "$%7Bjndi:ldap://x%7D", "../../etc/passwd", "-", "1e999",
      "99999999999999999999", "-1", "0", "%20", "+", "a+b", "%2B", "\u00e9", "%C3%A9", "%E9", "x%00y", "Patient/1",
      "_operations", "export", "*", "~", "%3F", "%23", "\\"};
  private static final String[] VALUES = {"ge2020", "2020-13-45", "ap2020", "lt", "eq", "-1", "0", "1e999", "5||mg",
      "a|b|c", "|", "http://x|", "|x", "Patient/1", "Patient/", "/", "*", "999999999999", ",", ",,,", "true", "null",
      "2020-01-01T00:00:00", "2020-01-01T25:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01", "Patient?name=x", "Patient?",
      "?", "Observation?code=%zz", "status", "Observation.code", "code[x]", "Patient/../..", "urn:uuid:x", "\"",
      "{}", "[]", "\u0000", "\u202e", "application/fhir+ndjson", "application/fhir ndjson", "ndjson", "x".repeat(3000),
      "Observation:subject", "Observation:subject:Patient", "Patient:general-practitioner:Practitioner", "_id", "-_id",
      "name,-birthdate", "Observation:patient:code", "W/\"1\"", "1.5", "ne1.5e9999"};
  private static final String[] PARAMS = {"_id", "_count", "_sort", "_include", "_revinclude",
      "_has:Observation:subject:code", "_has", "_has:Observation", "_lastUpdated", "_since", "_at", "_cursor",
      "_format", "_summary", "_elements", "_total", "name", "family", "birthdate", "gender", "identifier", "code",
      "value-quantity", "subject", "subject:Patient.name", "subject.name", "patient", "date", "_tag", "_profile",
      "_security", "_text", "_content", "_list", "_query", "code:text", "code:not", "code:in", "name:exact",
      "name:contains", "birthdate:missing", "subject:identifier", "_filter", "component-code-value-quantity",
      "combo-code-value-quantity", "url:below", "identifier:of-type", "general-practitioner", "_type", "x", "", "%",
      "name:unknown", "subject:Unicorn", "_include:iterate", "_count:x", "code-value-quantity"};
  private static final String[] EXPORT_PARAMS = {"_outputFormat", "_until", "_till", "_type", "_typeFilter",
      "_elements", "_container", "patient", "_anonymizationConfig", "_anonymizationConfigEtag", "_since", "unknown"};
  private static final String[] HEADERS = {"Accept", "Content-Type", "If-Match", "If-None-Match", "If-None-Exist",
      "Prefer", "Range", "Accept-Encoding", "Authorization", "X-Forwarded-Host", "X-Forwarded-Proto", "Content-Encoding",
      "Expect", "Cookie", "Origin", "Accept-Charset", "Forwarded"};
  private static final String[] HEADER_VALUES = {";;;", ";", ",", "*/*;q=abc", "application/fhir+json;charset=ebcdic",
      "application/fhir+xml", "text/html", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
      "bytes=1-0", "bytes=99999999999999999999-", "bytes=-99999999999999999999", "bytes=0-1,2-3", "bytes=-", "W/\"abc\"",
      "W/\"99999999999\"", "\"", "respond-async, handling=lenient", "return=minimal", "return=representation",
      "handling=strict", "gzip;q=x", "gzip", "identity;q=0", "Bearer ", "Basic %%%", "name=%zz", "100-continue",
      "x".repeat(2000), "\u00e9\u00e9", "", " ", "null", "0", "-1", "for=\"[::1", "a b", "http://evil.example"};
  private static final String[] JSON_JUNK = {"1", "-0", "1e999", "123456789012345678901234567890", "null", "true",
      "\"\"", "\" \"", "\"\\u0000\"", "\"\\ud800\"", "[]", "[1]", "[null]", "[[[]]]", "{}", "{\"a\":1}",
      "[{}]", "\"x\"", "{\"resourceType\":\"Patient\"}", "[{\"url\":1}]", "{\"extension\":[1]}",
      "{\"reference\":1}", "\"2020-13-45\"", "\"Patient/" + "a".repeat(70) + "\""};
  private static final String[] JSON_NAMES = {"extension", "modifierExtension", "id", "resourceType", "meta",
      "contained", "_birthDate", "_gender", "text", "name", "x", "", "identifier", "subject", "valueQuantity",
      "fullUrl", "request", "resource", "entry", "parameter", "valueReference", "valueString", "_valueString", "part"};

  private final long seed;
  private final String since;

  /**
   * @param since an instant before the run: every export request carries it as {@code _since},
   *     so the exports the fuzzer starts read only what it wrote
   */
  public RequestFuzzer(long seed, Instant since) {
    this.seed = seed;
    this.since = since.toString();
  }

  public long seed() {
    return seed;
  }

  public Request request(int index) {
    // mixed: Randoms of nearby seeds start alike
    Random r = new Random(new java.util.SplittableRandom(seed ^ (index * 0x9E3779B97F4A7C15L)).nextLong());
    List<Function<Random, byte[]>> kinds = List.of(this::resource, this::resource, this::resource, this::xml,
        this::bundle, this::bundle, this::path, this::path, this::headers, this::headers, this::search, this::search,
        this::export, this::export, this::huge, this::framing);
    return new Request(index, kinds.get(r.nextInt(kinds.size())).apply(r));
  }

  private static String pick(Random r, String[] values) {
    return values[r.nextInt(values.length)];
  }

  private byte[] http(Random r, String method, String target, byte[] body, String... headers) {
    List<String> h = new ArrayList<>(List.of(headers));
    if (body != null && r.nextInt(10) > 0) {
      h.add("Content-Type: " + (r.nextInt(8) == 0 ? pick(r, HEADER_VALUES) : "application/fhir+json"));
    }
    return RawHttp.request(method, target, body, h.toArray(String[]::new));
  }

  private byte[] resource(Random r) {
    String type = r.nextInt(5) == 0 ? pick(r, TYPES) : r.nextBoolean() ? "Patient" : "Observation";
    String id = r.nextInt(6) == 0 ? pick(r, ODD) : "fz-" + seed + "-" + r.nextInt(50);
    String json = mutateJson(r, seedResource(r, type.equals("Observation") ? "Observation" : "Patient", id));
    boolean put = r.nextBoolean();
    return http(r, put ? "PUT" : "POST", "/fhir/" + type + (put ? "/" + id : ""), bytes(r, json));
  }

  private static String seedResource(Random r, String type, String id) {
    return type.equals("Observation")
        ? "{\"resourceType\":\"Observation\",\"id\":\"" + id + "\",\"status\":\"final\",\"code\":{\"coding\":[{"
            + "\"system\":\"http://loinc.org\",\"code\":\"1-" + r.nextInt(9) + "\"}]},\"subject\":{\"reference\":"
            + "\"Patient/p1\"},\"effectiveDateTime\":\"2020-01-01T00:00:00Z\",\"valueQuantity\":{\"value\":1.5,"
            + "\"unit\":\"mg\",\"system\":\"http://unitsofmeasure.org\",\"code\":\"mg\"}}"
        : "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"name\":[{\"family\":\"F\",\"given\":[\"G\"]}],"
            + "\"birthDate\":\"1970-01-01\",\"gender\":\"male\",\"extension\":[{\"url\":\"http://e.org\","
            + "\"valueString\":\"x\"}],\"identifier\":[{\"system\":\"http://s\",\"value\":\"v" + r.nextInt(9) + "\"}]}";
  }

  /** A few edits: a value replaced by junk of another JSON type, a field added, or bytes cut, changed or added. */
  private static String mutateJson(Random r, String json) {
    StringBuilder sb = new StringBuilder(json);
    int edits = 1 + r.nextInt(3);
    for (int e = 0; e < edits; e++) {
      int at = r.nextInt(sb.length() + 1);
      switch (r.nextInt(7)) {
        case 0 -> {
          // a value (after a colon) replaced by junk
          int colon = sb.indexOf(":", at);
          if (colon > 0) {
            int end = valueEnd(sb, colon + 1);
            sb.replace(colon + 1, end, pick(r, JSON_JUNK));
          }
        }
        case 1 -> {
          int brace = sb.indexOf("{", at);
          if (brace >= 0) {
            sb.insert(brace + 1, "\"" + pick(r, JSON_NAMES) + "\":" + pick(r, JSON_JUNK) + ",");
          }
        }
        case 2 -> sb.setLength(Math.min(sb.length(), at));
        case 3 -> sb.insert(at, pick(r, new String[] {"[", "]", "{", "}", ",", ":", "\"", "\\", "\u0000", "\uffff",
            "\ud800", "/*", "'", "NaN", " "}));
        case 4 -> {
          if (at < sb.length()) {
            sb.deleteCharAt(at);
          }
        }
        case 5 -> sb.insert(at, "[".repeat(r.nextInt(2000)));
        default -> {
          // a whole element given twice
          int comma = sb.indexOf(",\"", at);
          if (comma > 0) {
            int end = valueEnd(sb, sb.indexOf(":", comma) + 1);
            sb.insert(end, sb.substring(comma, end));
          }
        }
      }
    }
    return sb.toString();
  }

  /** Where the JSON value starting at {@code from} ends (roughly: at the next comma or bracket outside it). */
  private static int valueEnd(StringBuilder sb, int from) {
    int depth = 0;
    boolean string = false;
    for (int i = from; i < sb.length(); i++) {
      char c = sb.charAt(i);
      if (string) {
        if (c == '\\') {
          i++;
        } else if (c == '"') {
          string = false;
        }
      } else if (c == '"') {
        string = true;
      } else if (c == '{' || c == '[') {
        depth++;
      } else if (c == '}' || c == ']') {
        if (depth == 0) {
          return i;
        }
        depth--;
      } else if (c == ',' && depth == 0) {
        return i;
      }
    }
    return sb.length();
  }

  private static byte[] bytes(Random r, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    if (r.nextInt(10) == 0 && b.length > 0) {
      // a byte that is not UTF-8
      b[r.nextInt(b.length)] = (byte) (0x80 + r.nextInt(0x80));
    }
    return b;
  }

  private byte[] xml(Random r) {
    String[] docs = {
        "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"x\"/><gender value=\"male\"/></Patient>",
        "<Patient xmlns=\"http://hl7.org/fhir\"><extension><valueString value=\"x\"/></extension></Patient>",
        "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
            + "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
            + "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"&d;\"/></Patient>",
        "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
            + "<Patient xmlns=\"http://hl7.org/fhir\"><gender value=\"&x;\"/></Patient>",
        "<Patient><gender value=\"male\"/></Patient>",
        "<Patient xmlns=\"http://hl7.org/fhir\"><name><family value=\"&#0;\"/></name></Patient>",
        "<Bundle xmlns=\"http://hl7.org/fhir\"><type value=\"batch\"/><entry><request><method value=\"PUT\"/>"
            + "<url value=\"Patient/x\"/></request><resource><Patient><id value=\"y\"/></Patient></resource></entry>"
            + "</Bundle>",
        "<Parameters xmlns=\"http://hl7.org/fhir\"><parameter><name value=\"_type\"/></parameter></Parameters>",
        "<Patient xmlns=\"http://hl7.org/fhir\">" + "<a>".repeat(3000) + "</a>".repeat(3000) + "</Patient>"};
    String doc = docs[r.nextInt(docs.length)];
    StringBuilder sb = new StringBuilder(doc);
    if (r.nextBoolean()) {
      int at = r.nextInt(sb.length() + 1);
      switch (r.nextInt(3)) {
        case 0 -> sb.setLength(at);
        case 1 -> sb.insert(at, pick(r, new String[] {"<", ">", "&", "\"", "]]>", "<![CDATA[", "&#xFFFF;", "<x>"}));
        default -> {
          if (at < sb.length()) {
            sb.deleteCharAt(at);
          }
        }
      }
    }
    String target = doc.startsWith("<Bundle") ? "/fhir" : doc.startsWith("<Parameters") ? "/fhir/$export?_since="
        + since : "/fhir/Patient";
    return RawHttp.request("POST", target, bytes(r, sb.toString()), "Content-Type: application/fhir+xml",
        "Accept: application/fhir+json", "Prefer: respond-async");
  }

  private byte[] bundle(Random r) {
    StringBuilder sb = new StringBuilder("{\"resourceType\":\"Bundle\",\"type\":\""
        + pick(r, new String[] {"batch", "batch", "transaction", "collection", "", "Batch"}) + "\",\"entry\":[");
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n; i++) {
      String id = r.nextInt(6) == 0 ? pick(r, ODD) : "fzb-" + seed + "-" + r.nextInt(50);
      String type = r.nextBoolean() ? "Patient" : "Observation";
      String method = pick(r, new String[] {"PUT", "POST", "GET", "DELETE", "PATCH", "put", ""});
      String url = pick(r, new String[] {type + "/" + id, type, type + "?identifier=v1", type + "/" + id
          + "/_history/" + pick(r, ODD), pick(r, ODD), "/" + type + "/" + id + "/", type + "/" + id + "/x/y"});
      String entry = "{\"fullUrl\":\"urn:uuid:" + UUID.nameUUIDFromBytes(new byte[] {(byte) i}) + "\","
          + "\"resource\":" + seedResource(r, type, id) + ",\"request\":{\"method\":\"" + method + "\",\"url\":\""
          + url + "\"" + (r.nextInt(5) == 0 ? ",\"ifMatch\":\"" + pick(r, HEADER_VALUES).replace("\"", "") + "\"" : "")
          + (r.nextInt(5) == 0 ? ",\"ifNoneExist\":\"" + pick(r, VALUES).replace("\"", "") + "\"" : "") + "}}";
      sb.append(i == 0 ? "" : ",").append(r.nextInt(3) == 0 ? mutateJson(r, entry) : entry);
    }
    String body = sb.append("]}").toString();
    return http(r, "POST", "/fhir", bytes(r, r.nextInt(4) == 0 ? mutateJson(r, body) : body));
  }

  private byte[] path(Random r) {
    String odd = pick(r, ODD);
    String type = pick(r, TYPES);
    String target = switch (r.nextInt(12)) {
      case 0 -> "/fhir/" + odd;
      case 1 -> "/fhir/" + type + "/" + odd;
      case 2 -> "/fhir/" + type + "/" + odd + "/_history";
      case 3 -> "/fhir/" + type + "/x/_history/" + odd;
      case 4 -> "/fhir/_operations/export/" + odd;
      case 5 -> "/fhir/_operations/export/" + UUID.randomUUID() + "/" + odd;
      case 6 -> "/fhir/Group/" + odd + "/$export";
      case 7 -> "/fhir/Patient/" + odd + "/" + type;
      case 8 -> "/" + odd;
      case 9 -> "/health/" + odd;
      case 10 -> "/fhir/$export/" + odd;
      default -> "/fhir/" + odd + "/" + pick(r, ODD) + "/" + pick(r, ODD) + "/" + pick(r, ODD);
    };
    String method = pick(r, METHODS);
    byte[] body = method.equals("PUT") || method.equals("POST") || method.equals("PATCH")
        ? seedResource(r, "Patient", odd).getBytes(StandardCharsets.UTF_8) : null;
    return http(r, method, target.replace(" ", r.nextBoolean() ? "%20" : " "), body);
  }

  private byte[] headers(Random r) {
    List<String> headers = new ArrayList<>();
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n; i++) {
      headers.add(pick(r, HEADERS) + ":" + (r.nextBoolean() ? " " : "") + pick(r, HEADER_VALUES));
    }
    String[] targets = {"/fhir/metadata", "/fhir/Patient", "/fhir/Patient/fz-" + seed + "-1", "/fhir/_history",
        "/fhir/Patient/fz-" + seed + "-1/_history/1", "/fhir/$export?_since=" + since, "/health", "/metrics",
        "/fhir/Patient?_format=" + pick(r, HEADER_VALUES).replace(" ", "%20").replace(";", "%3B")};
    String target = pick(r, targets);
    String method = pick(r, new String[] {"GET", "GET", "POST", "PUT", "DELETE", "HEAD"});
    byte[] body = method.equals("POST") || method.equals("PUT")
        ? seedResource(r, "Patient", "fz-" + seed + "-1").getBytes(StandardCharsets.UTF_8) : null;
    return RawHttp.request(method, target, body, headers.toArray(String[]::new));
  }

  private byte[] search(Random r) {
    StringBuilder q = new StringBuilder();
    int n = 1 + r.nextInt(4);
    for (int i = 0; i < n; i++) {
      String value = pick(r, VALUES);
      q.append(i == 0 ? "" : "&").append(pick(r, PARAMS)).append('=')
          .append(r.nextInt(5) == 0 ? value : URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
    String type = r.nextInt(4) == 0 ? pick(r, TYPES) : r.nextBoolean() ? "Patient" : "Observation";
    String query = q.toString().replace(" ", "%20");
    return switch (r.nextInt(5)) {
      case 0 -> RawHttp.request("POST", "/fhir/" + type + "/_search", query.getBytes(StandardCharsets.UTF_8),
          "Content-Type: application/x-www-form-urlencoded");
      case 1 -> RawHttp.request("GET", "/fhir/Patient/p1/" + type + "?" + query, null);
      case 2 -> RawHttp.request(r.nextBoolean() ? "PUT" : "DELETE", "/fhir/" + type + "?" + query,
          seedResource(r, "Patient", "fzc-" + seed).getBytes(StandardCharsets.UTF_8),
          "Content-Type: application/fhir+json");
      default -> RawHttp.request("GET", "/fhir/" + type + "?" + query, null);
    };
  }

  private byte[] export(Random r) {
    StringBuilder q = new StringBuilder("_since=" + since);
    int n = r.nextInt(4);
    for (int i = 0; i < n; i++) {
      String value = pick(r, VALUES);
      q.append('&').append(pick(r, EXPORT_PARAMS)).append('=')
          .append(r.nextInt(4) == 0 ? value.replace(" ", "+") : URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
    String level = pick(r, new String[] {"/fhir/$export", "/fhir/Patient/$export", "/fhir/Group/g1/$export",
        "/fhir/Group/" + pick(r, ODD) + "/$export"});
    List<String> headers = new ArrayList<>();
    if (r.nextInt(6) > 0) {
      headers.add("Accept: application/fhir+json");
    }
    if (r.nextInt(6) > 0) {
      headers.add("Prefer: respond-async" + (r.nextBoolean() ? ", handling=lenient" : ""));
    }
    if (r.nextInt(3) == 0) {
      StringBuilder p = new StringBuilder("{\"resourceType\":\"Parameters\",\"parameter\":[{\"name\":\"_since\","
          + "\"valueInstant\":\"" + since + "\"}");
      for (int i = 0; i < 1 + r.nextInt(3); i++) {
        String name = pick(r, EXPORT_PARAMS);
        p.append(",{\"name\":\"").append(name).append("\",").append(pick(r, new String[] {
            "\"valueString\":\"" + pick(r, VALUES).replace("\"", "").replace("\u0000", "") + "\"",
            "\"valueReference\":{\"display\":\"x\"}", "\"valueReference\":{\"reference\":\"Patient/p1\"}",
            "\"_valueString\":{\"id\":\"x\"}", "\"valueInteger\":1", "\"valueCoding\":{\"code\":\"x\"}",
            "\"part\":[{\"name\":\"x\",\"valueString\":\"y\"}]", "\"valueInstant\":\"2020-01-01\""})).append('}');
      }
      String body = p.append("]}").toString();
      return http(r, "POST", level, bytes(r, r.nextInt(3) == 0 ? mutateJson(r, body) : body),
          headers.toArray(String[]::new));
    }
    if (r.nextInt(4) == 0) {
      String job = "/fhir/_operations/export/" + (r.nextBoolean() ? UUID.randomUUID().toString() : pick(r, ODD));
      return RawHttp.request(r.nextBoolean() ? "GET" : "DELETE", job + (r.nextBoolean() ? "/" + pick(r, ODD) : ""),
          null, "Range: " + pick(r, HEADER_VALUES));
    }
    return RawHttp.request("GET", level + "?" + q, null, headers.toArray(String[]::new));
  }

  private byte[] huge(Random r) {
    return switch (r.nextInt(7)) {
      case 0 -> RawHttp.request("POST", "/fhir/Patient", ("{\"resourceType\":\"Patient\",\"text\":\""
          + "x".repeat(9 * 1024 * 1024) + "\"}").getBytes(StandardCharsets.UTF_8), "Content-Type: application/fhir+json");
      case 1 -> RawHttp.request("POST", "/fhir/Patient", ("{\"resourceType\":\"Patient\",\"name\":"
          + "[".repeat(50_000) + "]".repeat(50_000) + "}").getBytes(StandardCharsets.UTF_8),
          "Content-Type: application/fhir+json");
      case 2 -> RawHttp.request("POST", "/fhir", ("{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{"
          + "\"resource\":" + "{\"a\":".repeat(20_000) + "1" + "}".repeat(20_000) + "}]}")
          .getBytes(StandardCharsets.UTF_8), "Content-Type: application/fhir+json");
      case 3 -> RawHttp.request("GET", "/fhir/Patient?name=" + "x".repeat(100_000), null);
      case 4 -> RawHttp.request("GET", "/fhir/metadata", null, "X-Big: " + "x".repeat(64 * 1024));
      case 5 -> {
        String[] many = new String[2000];
        for (int i = 0; i < many.length; i++) {
          many[i] = "X-H" + i + ": v";
        }
        yield RawHttp.request("GET", "/fhir/metadata", null, many);
      }
      default -> RawHttp.request("POST", "/fhir/Patient", ("<Patient xmlns=\"http://hl7.org/fhir\">"
          + "<name>".repeat(30_000) + "</name>".repeat(30_000) + "</Patient>").getBytes(StandardCharsets.UTF_8),
          "Content-Type: application/fhir+xml");
    };
  }

  /** Broken HTTP: request lines, Content-Length and chunked framing. */
  private byte[] framing(Random r) {
    String json = seedResource(r, "Patient", "fzf-" + seed + "-" + r.nextInt(10));
    String head = "POST /fhir/Patient HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "Content-Type: application/fhir+json\r\n";
    String raw = switch (r.nextInt(12)) {
      case 0 -> "GARBAGE\r\n\r\n";
      case 1 -> "GET /fhir/metadata HTTP/9.9\r\nHost: x\r\nConnection: close\r\n\r\n";
      case 2 -> "GET /fhir/metadata\r\n\r\n";
      case 3 -> head + "Content-Length: -1\r\n\r\n" + json;
      case 4 -> head + "Content-Length: abc\r\n\r\n" + json;
      case 5 -> head + "Content-Length: 5\r\nContent-Length: 7\r\n\r\n" + json;
      case 6 -> head + "Content-Length: " + json.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n" + json;
      case 7 -> head + "Transfer-Encoding: chunked\r\n\r\n" + pick(r, new String[] {"zz", "FFFFFFFFFFFFFFFFFF",
          "-1", "1;", "", " 5", "5 ;x=\"", "0x10"}) + "\r\n" + json + "\r\n0\r\n\r\n";
      case 8 -> head + "Content-Length: " + (json.length() + 100) + "\r\n\r\n" + json;
      case 9 -> head + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(json.length()) + "\r\n" + json
          + "\r\n0\r\nX-Trailer: " + pick(r, HEADER_VALUES) + "\r\n\r\n";
      case 10 -> "GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nBad Header\r\n\r\n";
      default -> "GET /fhir/metadata HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nX: a\u0000b\r\n\r\n";
    };
    return raw.getBytes(StandardCharsets.ISO_8859_1);
  }
}

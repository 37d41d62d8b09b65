package dev.sluice.http;

import dev.sluice.auth.Caller;
import dev.sluice.auth.Interaction;
import dev.sluice.fhir.FhirException;
import dev.sluice.fhir.OperationOutcomeJson;
import dev.sluice.fhir.FhirModel;
import dev.sluice.fhir.Format;
import dev.sluice.fhir.Issue;
import dev.sluice.store.ResourcePut;
import dev.sluice.store.ResourceStore;
import dev.sluice.store.StoredResource;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Batch and transaction Bundles ({@code POST [base]}). A transaction is all or nothing and
 * resolves {@code urn:uuid} references between its entries; a batch commits the entries that
 * succeed and reports the others, each with its own OperationOutcome.
 */
final class BundleRoutes {
  private final FhirModel fhir;
  private final ResourceStore store;
  private final ConditionalMatch conditional;
  private final Responses responses;
  private final BaseUrl baseUrl;

  BundleRoutes(FhirModel fhir, ResourceStore store, ConditionalMatch conditional, Responses responses,
      BaseUrl baseUrl) {
    this.fhir = fhir;
    this.store = store;
    this.conditional = conditional;
    this.responses = responses;
    this.baseUrl = baseUrl;
  }

  void handle(Context ctx, Caller caller) {
    BundleJson.Envelope bundle = BundleJson.read(ctx.bodyAsBytes(), fhir, Negotiation.requestFormat(ctx));
    boolean transaction = isTransaction(bundle);
    String base = baseUrl.of(ctx);
    boolean minimal = String.valueOf(ctx.header("Prefer")).contains("return=minimal");
    BundleWriter.Entry[] responseEntries = new BundleWriter.Entry[bundle.entries().size()];
    if (transaction) {
      transaction(caller, bundle, base, minimal, responseEntries);
    } else {
      batch(caller, bundle, base, minimal, responseEntries);
    }
    BundleWriter out = new BundleWriter(transaction ? "transaction-response" : "batch-response", null);
    for (BundleWriter.Entry e : responseEntries) {
      out.entry(e);
    }
    responses.send(ctx, 200, out.finish());
  }

  /** True for a transaction, false for a batch; 400 for anything else. */
  private static boolean isTransaction(BundleJson.Envelope bundle) {
    if (!"Bundle".equals(bundle.resourceType())) {
      throw FhirException.badRequest(
          "POST to the base URL takes a batch or transaction Bundle, not a " + bundle.resourceType(), "resourceType");
    }
    String type = bundle.type();
    if (!"batch".equals(type) && !"transaction".equals(type)) {
      throw FhirException.badRequest(
          "Bundle.type must be batch or transaction, got " + (type == null ? "nothing" : type), "Bundle.type");
    }
    return type.equals("transaction");
  }

  /** All or nothing: any failing entry rolls the whole transaction back. */
  private void transaction(Caller caller, BundleJson.Envelope bundle, String base, boolean minimal,
      BundleWriter.Entry[] responseEntries) {
    List<BundleEntryRequest> requests = new ArrayList<>();
    Map<String, String> resolved = new HashMap<>();
    Map<String, BundleEntryRequest.Create> createdBy = new HashMap<>();
    try {
      requireDistinctFullUrls(bundle.entries());
      for (BundleJson.Entry entry : bundle.entries()) {
        requests.add(toRequest(caller, entry, resolved, base, createdBy));
      }
      requireDistinctTargets(requests);
      resolveReferences(requests, resolved, base);
    } catch (FhirException e) {
      throw rolledBack(e);
    }
    requests = rewriteReferences(requests, resolved);
    List<ResourcePut> puts = asPuts(requests);
    List<BundleEntryRequest> ordered = new ArrayList<>(requests);
    ordered.sort(Comparator.comparingInt(BundleEntryRequest::transactionOrder));
    try {
      if (puts != null) {
        List<StoredResource> stored = store.writeAll(puts);
        for (int i = 0; i < stored.size(); i++) {
          responseEntries[requests.get(i).index()] = respond(requests.get(i), stored.get(i), base, minimal);
        }
      } else {
        store.write(tx -> {
          for (BundleEntryRequest r : ordered) {
            responseEntries[r.index()] = respond(r, execute(tx, r), base, minimal);
          }
          return null;
        });
      }
    } catch (FhirException e) {
      throw rolledBack(e);
    }
    for (BundleEntryRequest r : requests) {
      if (r instanceof BundleEntryRequest.SameAs same) {
        responseEntries[same.index()] = responseEntries[same.first()].asRepeat();
      }
    }
  }

  /** Each entry on its own: the ones that fail are answered with their OperationOutcome. */
  private void batch(Caller caller, BundleJson.Envelope bundle, String base, boolean minimal,
      BundleWriter.Entry[] responseEntries) {
    List<BundleEntryRequest> requests = new ArrayList<>();
    // a batch's entries do not refer to each other: what they resolve is not used
    Map<String, String> resolved = new HashMap<>();
    for (BundleJson.Entry entry : bundle.entries()) {
      try {
        requests.add(toRequest(caller, entry, resolved, base, null));
      } catch (FhirException e) {
        responseEntries[entry.index()] = failure(e);
      }
    }
    List<ResourcePut> puts = asPuts(requests);
    List<ResourceStore.Outcome<StoredResource>> outcomes;
    if (puts != null) {
      outcomes = store.writeBatch(puts);
    } else {
      List<ResourceStore.Work<StoredResource>> units = new ArrayList<>();
      for (BundleEntryRequest r : requests) {
        units.add(tx -> execute(tx, r));
      }
      outcomes = store.writeEach(units);
    }
    for (int i = 0; i < requests.size(); i++) {
      var outcome = outcomes.get(i);
      BundleEntryRequest request = requests.get(i);
      responseEntries[request.index()] = outcome.error() == null
          ? respond(request, outcome.value(), base, minimal)
          : failure(outcome.error());
    }
  }

  /**
   * The requests as plain writes with known ids when that is all they are (no If-Match, no
   * delete or read): the store then writes them in bulk. Null otherwise.
   */
  private static List<ResourcePut> asPuts(List<BundleEntryRequest> requests) {
    List<ResourcePut> puts = new ArrayList<>(requests.size());
    for (BundleEntryRequest r : requests) {
      switch (r) {
        case BundleEntryRequest.Create c -> puts.add(new ResourcePut(c.type(), c.id(), c.resource(), c.json(), true));
        case BundleEntryRequest.Update u when u.ifMatch() == null ->
            puts.add(new ResourcePut(u.type(), u.id(), u.resource(), u.json(), false));
        default -> {
          return null;
        }
      }
    }
    return puts;
  }

  private static FhirException rolledBack(FhirException e) {
    String prefix = "The transaction was rolled back; nothing of it was stored. ";
    return new FhirException(e.status(), e.issues().stream()
        .map(i -> i.rephrased(prefix + i.diagnostics(), i.expression()))
        .toList(), e);
  }

  private static BundleWriter.Entry failure(FhirException e) {
    return BundleWriter.Entry.failure(statusLine(e.status()), OperationOutcomeJson.of(e.issues()));
  }

  private StoredResource execute(dev.sluice.store.WriteTransaction tx, BundleEntryRequest r)
      throws java.sql.SQLException {
    return switch (r) {
      case BundleEntryRequest.Create c -> tx.put(new ResourcePut(c.type(), c.id(), c.resource(), c.json(), true));
      case BundleEntryRequest.Update u -> tx.update(u.type(), u.id(), u.resource(), u.ifMatch(), u.json());
      case BundleEntryRequest.Delete d -> tx.delete(d.type(), d.id(), d.ifMatch())
          .orElse(StoredResource.absent(d.type(), d.id()));
      case BundleEntryRequest.Matched m -> m.existing();
      // answered from the entry it stands for once the transaction is written
      case BundleEntryRequest.SameAs same -> null;
      // nothing to delete: respond() answers 204 without looking at this
      case BundleEntryRequest.NoMatch n -> StoredResource.absent(null, null);
      case BundleEntryRequest.Read rd -> {
        var found = rd.version() == null ? store.read(rd.type(), rd.id()) : store.vread(rd.type(), rd.id(), rd.version());
        StoredResource s = found.orElseThrow(() -> FhirException.notFound(rd.type() + "/" + rd.id() + " is not known"));
        if (s.deleted()) {
          throw FhirException.gone(rd.type() + "/" + rd.id() + " was deleted");
        }
        yield s;
      }
    };
  }

  private BundleWriter.Entry respond(BundleEntryRequest r, StoredResource s, String base, boolean minimal) {
    return switch (r) {
      case BundleEntryRequest.Delete d -> BundleWriter.Entry.noContent(s.version() > 0 ? s.etag() : null);
      case BundleEntryRequest.NoMatch n -> BundleWriter.Entry.noContent(null);
      case BundleEntryRequest.SameAs same -> null;
      case BundleEntryRequest.Read rd -> BundleWriter.Entry.read(base + "/" + s.relativeUrl(), s.content(), s.etag(),
          s.lastUpdated());
      default -> BundleWriter.Entry.written(base + "/" + s.relativeUrl(), minimal ? null : s.content(),
          s.created() ? "201 Created" : "200 OK", s.relativeUrl() + "/_history/" + s.version(), s.etag(),
          s.lastUpdated());
    };
  }

  /**
   * @param base the base the request reached the server under, for conditional criteria
   * @param createdBy in a transaction, the entry that creates for each conditional create's
   *     type and criteria; null in a batch, whose entries do not depend on each other
   */
  private BundleEntryRequest toRequest(Caller caller, BundleJson.Entry entry, Map<String, String> resolved,
      String base, Map<String, BundleEntryRequest.Create> createdBy) {
    int i = entry.index();
    String where = "Bundle.entry[" + i + "]";
    if (entry.method() == null || entry.url() == null) {
      throw FhirException.badRequest(where + " has no request with a method and a url", where + ".request");
    }
    String method = entry.method();
    int question = entry.url().indexOf('?');
    String url = question < 0 ? entry.url() : entry.url().substring(0, question);
    String criteria = question < 0 ? null : entry.url().substring(question + 1);
    String[] parts = url.replaceAll("^/+|/+$", "").split("/");
    String type = parts[0];
    if (!fhir.isResourceType(type)) {
      throw FhirException.badRequest(where + ": '" + type + "' is not a FHIR R4 resource type", where + ".request.url");
    }
    authorize(caller, method, type, parts, criteria != null || (method.equals("POST") && entry.ifNoneExist() != null),
        where);
    Resource resource = entry.resource() == null || !(method.equals("POST") || method.equals("PUT"))
        ? null : parseResource(entry, where);
    Integer ifMatch = entry.ifMatch() != null ? Params.etagVersion(entry.ifMatch(), where + ".request.ifMatch") : null;
    Target target = new Target(i, where, entry.url(), url, criteria, parts, type, ifMatch);
    return switch (method) {
      case "POST" -> post(target, entry, resource, resolved, base, createdBy);
      case "PUT" -> put(target, entry, resource, resolved, base);
      case "DELETE" -> delete(target, base);
      case "GET" -> get(target);
      default -> throw FhirException.notSupported(where + ": method " + method + " is not supported in bundles",
          where + ".request.method");
    };
  }

  /**
   * Every entry is checked as the same request on its own would be: a batch answers a refused
   * entry with 403 alone, a transaction is refused whole.
   *
   * @param conditional the entry searches (conditional update or delete, If-None-Exist)
   */
  private static void authorize(Caller caller, String method, String type, String[] parts, boolean conditional,
      String where) {
    Interaction interaction = switch (method) {
      case "POST" -> Interaction.CREATE;
      case "PUT" -> Interaction.UPDATE;
      case "DELETE" -> Interaction.DELETE;
      case "GET" -> parts.length == 4 ? Interaction.VREAD : Interaction.READ;
      default -> null;
    };
    try {
      if (interaction != null) {
        caller.requireWhole(interaction, type);
      }
      if (conditional) {
        caller.requireWhole(Interaction.SEARCH, type);
      }
    } catch (FhirException e) {
      throw new FhirException(e.status(), e.issues().stream()
          .map(i -> i.rephrased(where + ": " + i.diagnostics(), where + ".request"))
          .toList(), e);
    }
  }

  /**
   * Where an entry's request goes.
   *
   * @param where the entry, as error messages name it
   * @param fullUrl the request URL as sent; {@code url} is it without the query, {@code criteria} the query or null
   * @param parts the path segments of {@code url}; the first is the type
   */
  private record Target(int index, String where, String fullUrl, String url, String criteria, String[] parts,
      String type, Integer ifMatch) {}

  private BundleEntryRequest post(Target t, BundleJson.Entry entry, Resource resource, Map<String, String> resolved,
      String base, Map<String, BundleEntryRequest.Create> createdBy) {
    String where = t.where();
    String type = t.type();
    if (t.parts().length != 1 || t.criteria() != null) {
      throw FhirException.badRequest(where + ": POST goes to a type URL such as 'Patient', got '" + t.fullUrl() + "'",
          where + ".request.url");
    }
    requireResource(where, resource, type);
    String key = entry.ifNoneExist() == null ? null : type + "?" + ConditionalMatch.query(entry.ifNoneExist());
    if (key != null) {
      var existing = conditional.find(type, entry.ifNoneExist(), where + ".request.ifNoneExist", base);
      if (existing.isPresent()) {
        // references to this entry's fullUrl now point at the resource that already exists
        if (entry.fullUrl() != null) {
          resolved.put(entry.fullUrl(), existing.get().relativeUrl());
        }
        return new BundleEntryRequest.Matched(t.index(), existing.get());
      }
      BundleEntryRequest.Create first = createdBy == null ? null : createdBy.get(key);
      if (first != null) {
        if (entry.fullUrl() != null) {
          resolved.put(entry.fullUrl(), first.type() + "/" + first.id());
        }
        return new BundleEntryRequest.SameAs(t.index(), first.index());
      }
    }
    String id = UUID.randomUUID().toString();
    if (entry.fullUrl() != null) {
      resolved.put(entry.fullUrl(), type + "/" + id);
    }
    var create = new BundleEntryRequest.Create(t.index(), type, id, resource, entry.resource());
    if (key != null && createdBy != null) {
      createdBy.put(key, create);
    }
    return create;
  }

  private BundleEntryRequest put(Target t, BundleJson.Entry entry, Resource resource, Map<String, String> resolved,
      String base) {
    String where = t.where();
    String type = t.type();
    if (t.parts().length != (t.criteria() == null ? 2 : 1)) {
      throw FhirException.badRequest(where + ": PUT goes to a URL such as 'Patient/123' or 'Patient?identifier=x', got '"
          + t.fullUrl() + "'", where + ".request.url");
    }
    requireResource(where, resource, type);
    String bodyId = resource.getIdElement().getIdPart();
    String id;
    if (t.criteria() != null) {
      id = conditional.updateId(type, t.criteria(), where + ".request.url", base, bodyId, where + ".resource.id");
    } else {
      id = FhirModel.requireId(t.parts()[1]);
      if (bodyId != null && !bodyId.equals(id) && !(entry.fullUrl() != null && entry.fullUrl().startsWith("urn:"))) {
        throw FhirException.badRequest(where + ": resource id '" + bodyId + "' does not match the URL '" + t.url() + "'",
            where + ".resource.id");
      }
    }
    if (entry.fullUrl() != null) {
      resolved.put(entry.fullUrl(), type + "/" + id);
    }
    return new BundleEntryRequest.Update(t.index(), type, id, resource, t.ifMatch(), entry.resource());
  }

  private BundleEntryRequest delete(Target t, String base) {
    String where = t.where();
    if (t.parts().length != (t.criteria() == null ? 2 : 1)) {
      throw FhirException.badRequest(where + ": DELETE goes to a URL such as 'Patient/123' or 'Patient?identifier=x', got '"
          + t.fullUrl() + "'", where + ".request.url");
    }
    if (t.criteria() == null) {
      return new BundleEntryRequest.Delete(t.index(), t.type(), FhirModel.requireId(t.parts()[1]), t.ifMatch());
    }
    return conditional.find(t.type(), t.criteria(), where + ".request.url", base)
        .<BundleEntryRequest>map(m -> new BundleEntryRequest.Delete(t.index(), t.type(), m.id(), t.ifMatch()))
        .orElse(new BundleEntryRequest.NoMatch(t.index()));
  }

  private static BundleEntryRequest get(Target t) {
    String where = t.where();
    String[] parts = t.parts();
    if (t.criteria() != null) {
      throw FhirException.notSupported(where + ": searches ('" + t.fullUrl() + "') are not supported as GET entries",
          where + ".request.url");
    }
    if (parts.length == 2) {
      return new BundleEntryRequest.Read(t.index(), t.type(), FhirModel.requireId(parts[1]), null);
    }
    if (parts.length == 4 && parts[2].equals("_history")) {
      try {
        return new BundleEntryRequest.Read(t.index(), t.type(), FhirModel.requireId(parts[1]),
            Integer.parseInt(parts[3]));
      } catch (NumberFormatException e) {
        throw FhirException.badRequest(where + ": '" + parts[3] + "' is not a version number", where + ".request.url");
      }
    }
    throw FhirException.notSupported(where + ": only reads ('Type/id', 'Type/id/_history/n') are supported as GET entries",
        where + ".request.url");
  }

  /**
   * FHIR R4 transaction rules: no two writes of a transaction may touch the same resource,
   * identities resolved by conditional update and delete included; nor may a conditional
   * create that matched a resource stand beside the delete of that resource (references to it
   * would point at what the transaction deletes).
   */
  private static void requireDistinctTargets(List<BundleEntryRequest> requests) {
    Map<String, Integer> written = new HashMap<>();
    Map<String, Integer> deleted = new HashMap<>();
    Map<String, Integer> matched = new HashMap<>();
    for (BundleEntryRequest r : requests) {
      switch (r) {
        case BundleEntryRequest.Create c -> requireFirst(written, c.type() + "/" + c.id(), r.index(), null);
        case BundleEntryRequest.Update u -> requireFirst(written, u.type() + "/" + u.id(), r.index(), null);
        case BundleEntryRequest.Delete d -> {
          requireFirst(written, d.type() + "/" + d.id(), r.index(), null);
          deleted.put(d.type() + "/" + d.id(), r.index());
        }
        case BundleEntryRequest.Matched m -> matched.putIfAbsent(m.existing().relativeUrl(), r.index());
        default -> { }
      }
    }
    matched.forEach((target, index) -> requireFirst(deleted, target, index, "matches"));
  }

  /** Records {@code target} as touched by entry {@code index}; 400 when another entry touches it already. */
  private static void requireFirst(Map<String, Integer> seen, String target, int index, String verb) {
    Integer first = seen.putIfAbsent(target, index);
    if (first != null) {
      String where = "Bundle.entry[" + index + "]";
      throw FhirException.badRequest(where + (verb == null ? " writes " : " " + verb + " ") + target
          + ", which Bundle.entry[" + first + "] " + (verb == null ? "writes" : "deletes")
          + " too; a transaction may touch each resource once", where + ".request");
    }
  }

  /** The entry's resource, parsed and checked strictly on its own; errors name the entry. */
  private Resource parseResource(BundleJson.Entry entry, String where) {
    try {
      return (Resource) fhir.parse(entry.resource(), Format.JSON);
    } catch (FhirException e) {
      throw new FhirException(e.status(), e.issues().stream()
          .map(i -> i.rephrased(where + ".resource: " + i.diagnostics(),
              i.expression() == null ? where + ".resource" : where + ".resource." + i.expression()))
          .toList(), e);
    }
  }

  private void requireResource(String where, Resource resource, String type) {
    if (resource == null) {
      throw FhirException.badRequest(where + " has no resource", where + ".resource");
    }
    if (!resource.fhirType().equals(type)) {
      throw FhirException.badRequest(where + ": the resource is a " + resource.fhirType() + " but the URL is for " + type,
          where + ".resource");
    }
  }

  /**
   * A transaction's references resolve against its entries' fullUrls, so two entries of one
   * fullUrl leave a reference to it ambiguous (FHIR: fullUrl is unique in a Bundle).
   */
  private static void requireDistinctFullUrls(List<BundleJson.Entry> entries) {
    Map<String, Integer> first = new HashMap<>();
    for (BundleJson.Entry e : entries) {
      if (e.fullUrl() == null) {
        continue;
      }
      Integer earlier = first.putIfAbsent(e.fullUrl(), e.index());
      if (earlier != null) {
        String where = "Bundle.entry[" + e.index() + "].fullUrl";
        throw FhirException.badRequest(where + " '" + e.fullUrl() + "' is the fullUrl of Bundle.entry[" + earlier
            + "] too; each entry of a transaction needs its own", where);
      }
    }
  }

  /**
   * The references of a transaction's resources that name no resource until the transaction
   * resolves them: a conditional reference ({@code Patient?identifier=x}) becomes its one
   * match, found before anything is written (none or several fail the transaction, FHIR's
   * rule), and a {@code urn:uuid:} or {@code urn:oid:} reference must be the fullUrl of an
   * entry; either would otherwise be stored as written, a reference to nothing.
   */
  private void resolveReferences(List<BundleEntryRequest> requests, Map<String, String> resolved, String base) {
    var terser = fhir.context().newTerser();
    for (BundleEntryRequest r : requests) {
      IBaseResource resource = switch (r) {
        case BundleEntryRequest.Create c -> c.resource();
        case BundleEntryRequest.Update u -> u.resource();
        default -> null;
      };
      if (resource == null) {
        continue;
      }
      String where = "Bundle.entry[" + r.index() + "].resource";
      for (Reference ref : terser.getAllPopulatedChildElementsOfType(resource, Reference.class)) {
        String target = ref.getReference();
        if (target == null || resolved.containsKey(target)) {
          continue;
        }
        if (target.startsWith("urn:uuid:") || target.startsWith("urn:oid:")) {
          throw FhirException.badRequest(where + " refers to '" + target + "', which is the fullUrl of no entry of"
              + " the transaction", where);
        }
        int question = target.indexOf('?');
        if (question > 0 && fhir.isResourceType(target.substring(0, question))) {
          String type = target.substring(0, question);
          StoredResource match = conditional.find(type, target.substring(question + 1), where + " (reference '"
              + target + "')", base).orElseThrow(() -> FhirException.badRequest(where + ": the conditional reference '"
              + target + "' matches no " + type + "; it must match exactly one", where));
          resolved.put(target, match.relativeUrl());
        }
      }
    }
  }

  /**
   * Points references to urn:uuid entries (and to full URLs of entries) at the ids they were
   * given. A resource whose references changed is stored from its model, not its sent JSON.
   */
  private List<BundleEntryRequest> rewriteReferences(List<BundleEntryRequest> requests, Map<String, String> resolved) {
    if (resolved.isEmpty()) {
      return requests;
    }
    var terser = fhir.context().newTerser();
    List<BundleEntryRequest> rewritten = new ArrayList<>(requests.size());
    for (BundleEntryRequest r : requests) {
      IBaseResource resource = switch (r) {
        case BundleEntryRequest.Create c -> c.resource();
        case BundleEntryRequest.Update u -> u.resource();
        default -> null;
      };
      boolean changed = false;
      if (resource != null) {
        for (Reference ref : terser.getAllPopulatedChildElementsOfType(resource, Reference.class)) {
          String target = ref.getReference();
          if (target != null && resolved.containsKey(target)) {
            ref.setReference(resolved.get(target));
            changed = true;
          }
        }
      }
      rewritten.add(!changed ? r : switch (r) {
        case BundleEntryRequest.Create c -> new BundleEntryRequest.Create(c.index(), c.type(), c.id(), c.resource(), null);
        case BundleEntryRequest.Update u ->
            new BundleEntryRequest.Update(u.index(), u.type(), u.id(), u.resource(), u.ifMatch(), null);
        default -> r;
      });
    }
    return rewritten;
  }

  static String statusLine(int status) {
    return switch (status) {
      case 200 -> "200 OK";
      case 201 -> "201 Created";
      case 204 -> "204 No Content";
      case 400 -> "400 Bad Request";
      case 404 -> "404 Not Found";
      case 409 -> "409 Conflict";
      case 410 -> "410 Gone";
      case 412 -> "412 Precondition Failed";
      case 422 -> "422 Unprocessable Entity";
      default -> Integer.toString(status);
    };
  }
}

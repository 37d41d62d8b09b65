package dev.sluice.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.auth.Caller;
import io.javalin.http.Context;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One JSON line per request on the logger {@code sluice.audit} (docs/security.md): when, which
 * client, which interaction on which type, id or query, the status, and the export job id for
 * export operations. Never a token, never a resource body.
 */
final class AuditLog {
  static final String LOGGER = "sluice.audit";
  /** The request attribute under which the authorization filter leaves the caller. */
  static final String CALLER = "sluice.caller";
  private static final Logger log = LoggerFactory.getLogger(LOGGER);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Clock clock;

  AuditLog(Clock clock) {
    this.clock = clock;
  }

  void record(Context ctx) {
    if (!log.isInfoEnabled()) {
      return;
    }
    String route = route(ctx);
    if (route.startsWith("/health") || route.equals("/metrics")) {
      return;
    }
    String method = ctx.method().name();
    ObjectNode line = JSON.createObjectNode();
    line.put("time", clock.instant().toString());
    Caller caller = ctx.attribute(CALLER);
    line.put("client", caller == null ? null : caller.clientId());
    line.put("interaction", interaction(method, route));
    line.put("type", typeOf(ctx, route));
    line.put("id", param(ctx, route, "{id}"));
    if (route.contains("/_operations/export/")) {
      line.put("job", param(ctx, route, "{id}"));
      line.remove("id");
    }
    if (route.contains("$export") && ctx.statusCode() == 202) {
      String location = ctx.res().getHeader("Content-Location");
      line.put("job", location == null ? null : location.substring(location.lastIndexOf('/') + 1));
    }
    String query = ctx.queryString();
    line.put("query", query == null || query.isEmpty() ? null : query);
    line.put("status", ctx.statusCode());
    line.put("method", method);
    line.put("path", ctx.path());
    try {
      log.info(JSON.writeValueAsString(line));
    } catch (JsonProcessingException e) {
      log.warn("cannot write an audit line: {}", e.getMessage());
    }
  }

  private static String route(Context ctx) {
    try {
      return ctx.endpointHandlerPath();
    } catch (RuntimeException e) {
      return "unmatched";
    }
  }

  private static String param(Context ctx, String route, String name) {
    return route.contains(name) ? ctx.pathParam(name.substring(1, name.length() - 1)) : null;
  }

  private static String typeOf(Context ctx, String route) {
    if (route.contains("{type}")) {
      return ctx.pathParam("type");
    }
    if (route.startsWith("/fhir/Patient/")) {
      return "Patient";
    }
    return route.startsWith("/fhir/Group/") ? "Group" : null;
  }

  /** The FHIR interaction (or operation) a route and method stand for. */
  static String interaction(String method, String route) {
    return switch (route) {
      case "/fhir" -> "batch/transaction";
      case "/fhir/metadata" -> "capabilities";
      case "/fhir/$export", "/fhir/Patient/$export", "/fhir/Group/{id}/$export" -> "export";
      case "/fhir/_operations/export/{id}" -> method.equals("DELETE") ? "export-cancel" : "export-status";
      case "/fhir/_operations/export/{id}/{file}" -> "export-download";
      case "/fhir/_history" -> "history-system";
      case "/fhir/{type}/_history" -> "history-type";
      case "/fhir/{type}/{id}/_history" -> "history-instance";
      case "/fhir/{type}/{id}/_history/{vid}" -> "vread";
      case "/fhir/{type}/_search", "/fhir/Patient/{id}/{type}" -> "search-type";
      case "/fhir/{type}" -> switch (method) {
        case "GET" -> "search-type";
        case "POST" -> "create";
        case "PUT" -> "update";
        default -> "delete";
      };
      case "/fhir/{type}/{id}" -> switch (method) {
        case "GET" -> "read";
        case "PUT" -> "update";
        default -> "delete";
      };
      default -> route.equals("unmatched") ? "unknown" : route;
    };
  }
}

package dev.sluice.http;

import dev.sluice.fhir.Issue;
import dev.sluice.fhir.OperationOutcomeJson;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Jetty's own error answers as OperationOutcomes: requests it refuses before Javalin sees
 * them (an undecodable URI, a header it cannot parse) and errors it raises itself. Without
 * this they are HTML pages.
 */
final class JettyOutcomes extends ErrorHandler {
  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    if (HttpStatus.hasNoBody(status)) {
      return null;
    }
    fields.put(HttpHeader.CONTENT_TYPE, "application/fhir+json;charset=utf-8");
    return ByteBuffer.wrap(json(status, reason));
  }

  @Override
  protected void generateAcceptableResponse(Request baseRequest, HttpServletRequest request,
      HttpServletResponse response, int code, String message) throws IOException {
    baseRequest.setHandled(true);
    response.setContentType("application/fhir+json;charset=utf-8");
    response.getOutputStream().write(json(code, message));
  }

  private static byte[] json(int status, String reason) {
    String words = reason == null || reason.isBlank() ? HttpStatus.getMessage(status) : reason;
    return OperationOutcomeJson.of(Issue.error(status == 413 || status == 431 ? Issue.Code.TOO_COSTLY : Issue.Code.INVALID,
        "The HTTP request was refused before it reached the FHIR API (" + status + " " + words + ")"));
  }
}

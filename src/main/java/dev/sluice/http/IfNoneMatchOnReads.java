package dev.sluice.http;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;
import java.util.Collections;
import java.util.Enumeration;

/**
 * {@code If-None-Match} only where FHIR gives it a meaning: reads (GET, HEAD). Javalin answers
 * 304 with no body to any request whose {@code ETag} equals its {@code If-None-Match}, so a
 * create or an update that sent the ETag of the version it made got a 304 after the write,
 * without the resource or any sign the write happened. FHIR's conditional writes use
 * {@code If-Match} and {@code If-None-Exist}; a write's {@code If-None-Match} is ignored, as HAPI does.
 */
final class IfNoneMatchOnReads implements Filter {
  private static final String IF_NONE_MATCH = "If-None-Match";

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest http = (HttpServletRequest) request;
    if (http.getMethod().equals("GET") || http.getMethod().equals("HEAD") || http.getHeader(IF_NONE_MATCH) == null) {
      chain.doFilter(request, response);
      return;
    }
    chain.doFilter(new HttpServletRequestWrapper(http) {
      @Override
      public String getHeader(String name) {
        return IF_NONE_MATCH.equalsIgnoreCase(name) ? null : super.getHeader(name);
      }

      @Override
      public Enumeration<String> getHeaders(String name) {
        return IF_NONE_MATCH.equalsIgnoreCase(name) ? Collections.emptyEnumeration() : super.getHeaders(name);
      }
    }, response);
  }
}

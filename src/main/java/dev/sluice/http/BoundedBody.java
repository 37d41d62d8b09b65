package dev.sluice.http;

import dev.sluice.fhir.FhirException;
import io.javalin.http.HttpResponseException;
import io.javalin.http.HttpStatus;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.io.IOException;

/**
 * Request bodies as the routes read them: at most the size limit whatever their framing
 * (Javalin checks only {@code Content-Length}, so a chunked body had no limit), and a body
 * that cannot be read (a malformed chunk, a connection that ended early) is a 400 instead of
 * the empty 500 Javalin gives to what looks like a client abort.
 */
final class BoundedBody implements Filter {
  private final long maxBytes;

  BoundedBody(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  @Override
  public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain)
      throws IOException, ServletException {
    chain.doFilter(new HttpServletRequestWrapper((HttpServletRequest) request) {
      private ServletInputStream body;

      @Override
      public ServletInputStream getInputStream() throws IOException {
        if (body == null) {
          body = new Limited(super.getInputStream(), maxBytes);
        }
        return body;
      }
    }, response);
  }

  private static final class Limited extends ServletInputStream {
    private final ServletInputStream in;
    private final long maxBytes;
    private long read;

    Limited(ServletInputStream in, long maxBytes) {
      this.in = in;
      this.maxBytes = maxBytes;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      int n;
      try {
        n = in.read(b, off, len);
      } catch (IOException e) {
        throw FhirException.badRequest("The request body could not be read: it ended early or its chunked"
            + " transfer encoding is malformed (" + e.getMessage() + ")");
      }
      if (n > 0) {
        read += n;
        if (read > maxBytes) {
          // worded by FhirServer, like the 413 Javalin gives for a Content-Length over the limit
          throw new HttpResponseException(HttpStatus.CONTENT_TOO_LARGE.getCode(), "content too large");
        }
      }
      return n;
    }

    @Override
    public boolean isFinished() {
      return in.isFinished();
    }

    @Override
    public boolean isReady() {
      return in.isReady();
    }

    @Override
    public void setReadListener(ReadListener listener) {
      in.setReadListener(listener);
    }
  }
}

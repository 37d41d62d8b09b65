package dev.sluice.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a plain socket, for requests no HTTP client sends: undecodable paths, broken
 * chunked bodies, odd headers. One request per connection ({@code Connection: close}); the
 * answer is read to the end of the stream.
 */
public final class RawHttp {
  private static final int TIMEOUT_MILLIS = 60_000;

  /** An answer; header names in lower case. */
  public record Response(int status, Map<String, String> headers, byte[] body) {
    public String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    public String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }
  }

  /** The connection ended or was reset before a whole answer arrived. */
  public static final class DroppedConnection extends IOException {
    DroppedConnection(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private RawHttp() {}

  /**
   * A request with {@code Host} and {@code Connection: close} and, when there is a body, its
   * {@code Content-Length}.
   *
   * @param headers whole header lines ("Accept: ;;;")
   */
  public static byte[] request(String method, String target, byte[] body, String... headers) {
    StringBuilder head = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
        .append("Host: 127.0.0.1\r\nConnection: close\r\n");
    for (String h : headers) {
      head.append(h).append("\r\n");
    }
    if (body != null) {
      head.append("Content-Length: ").append(body.length).append("\r\n");
    }
    byte[] start = head.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
    if (body == null) {
      return start;
    }
    byte[] all = Arrays.copyOf(start, start.length + body.length);
    System.arraycopy(body, 0, all, start.length, body.length);
    return all;
  }

  /**
   * Sends the bytes as they are and reads the answer. A server may answer and close before it
   * read a whole body it refuses: a failed write is not an error when an answer follows.
   */
  public static Response exchange(int port, byte[] request) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
      socket.setSoTimeout(TIMEOUT_MILLIS);
      IOException writeFailure = null;
      try {
        OutputStream out = socket.getOutputStream();
        out.write(request);
        out.flush();
        socket.shutdownOutput();
      } catch (IOException e) {
        writeFailure = e;
      }
      byte[] raw;
      try {
        raw = readAll(socket.getInputStream());
      } catch (IOException e) {
        throw new DroppedConnection("no answer: " + e, writeFailure != null ? writeFailure : e);
      }
      return parse(raw, writeFailure, startsWith(request, "HEAD "));
    }
  }

  private static byte[] readAll(InputStream in) throws IOException {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    in.transferTo(buffer);
    return buffer.toByteArray();
  }

  private static boolean startsWith(byte[] bytes, String start) {
    return bytes.length >= start.length()
        && new String(bytes, 0, start.length(), StandardCharsets.ISO_8859_1).equals(start);
  }

  private static Response parse(byte[] raw, IOException writeFailure, boolean head) throws DroppedConnection {
    int from = 0;
    while (true) {
      int end = indexOf(raw, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), from);
      if (end < 0) {
        throw new DroppedConnection("the connection ended after " + raw.length + " bytes, before a whole status"
            + " line and headers", writeFailure);
      }
      String[] lines = new String(raw, from, end - from, StandardCharsets.ISO_8859_1).split("\r\n");
      int status = Integer.parseInt(lines[0].split(" ", 3)[1]);
      if (status >= 200) {
        return response(raw, end, lines, status, writeFailure, head);
      }
      // an interim answer (100 Continue): the final one follows
      from = end + 4;
    }
  }

  private static Response response(byte[] raw, int end, String[] lines, int status, IOException writeFailure,
      boolean head) throws DroppedConnection {
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
    }
    byte[] body = Arrays.copyOfRange(raw, end + 4, raw.length);
    if (head || status == 204 || status == 304) {
      body = new byte[0];
    } else if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
      body = dechunk(body);
    } else if (headers.containsKey("content-length")) {
      int length = Integer.parseInt(headers.get("content-length"));
      if (body.length < length) {
        throw new DroppedConnection("the connection ended after " + body.length + " of " + length + " body bytes",
            writeFailure);
      }
      body = Arrays.copyOf(body, length);
    }
    return new Response(status, headers, body);
  }

  private static byte[] dechunk(byte[] chunked) throws DroppedConnection {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (true) {
      int eol = indexOf(chunked, new byte[] {'\r', '\n'}, at);
      if (eol < 0) {
        throw new DroppedConnection("the connection ended inside a chunked body", null);
      }
      String size = new String(chunked, at, eol - at, StandardCharsets.ISO_8859_1).split(";")[0].trim();
      int n = Integer.parseInt(size, 16);
      if (n == 0) {
        return out.toByteArray();
      }
      if (eol + 2 + n > chunked.length) {
        throw new DroppedConnection("the connection ended inside a chunk", null);
      }
      out.write(chunked, eol + 2, n);
      at = eol + 2 + n + 2;
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}

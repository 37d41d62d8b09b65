package dev.sluice.cli;

import java.util.List;

/**
 * How the server logs: the console format, and whether each request gets an access-log line.
 *
 * @param accessLog one line per request (method, path, status, duration, bytes) on the logger
 *     {@code sluice.access}; never a body, a query string or a header
 */
public record LogConfig(Format format, boolean accessLog) {

  /** The console format; the names are Logback appender names in logback.xml. */
  public enum Format { TEXT, JSON }

  public static LogConfig defaults() {
    return new LogConfig(Format.TEXT, false);
  }

  void validate(List<String> problems) {
    if (format == null) {
      problems.add("--log-format (SLUICE_LOG_FORMAT) must be text or json");
    }
  }
}

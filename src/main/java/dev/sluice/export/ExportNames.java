package dev.sluice.export;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import java.util.regex.Pattern;

/** The names an export uses for containers and files, and the rules they must follow. */
public final class ExportNames {
  // Azure container names: 3-63 characters, lowercase letters, digits and single hyphens,
  // starting and ending with a letter or digit. Nothing here can name a path outside the store.
  private static final Pattern CONTAINER = Pattern.compile("[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]");
  private static final Pattern FILE = Pattern.compile("[A-Za-z]+(-[A-Za-z]+)?-[0-9]{1,9}\\.ndjson");
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

  private ExportNames() {}

  public static boolean isContainer(String name) {
    return name != null && CONTAINER.matcher(name).matches();
  }

  public static boolean isFileName(String name) {
    return name != null && FILE.matcher(name).matches();
  }

  /** The container of an export without {@code _container}: kick-off time and job id, as Azure names its folders. */
  public static String defaultContainer(Instant kickOff, UUID jobId) {
    return (STAMP.format(kickOff) + "-" + jobId).toLowerCase(java.util.Locale.ROOT);
  }
}

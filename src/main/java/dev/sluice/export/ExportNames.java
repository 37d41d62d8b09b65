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
  // a file directly in the anonymization container: no path separators, no "..", nothing hidden
  private static final Pattern CONFIG = Pattern.compile("[A-Za-z0-9_](?!.*\\.\\.)[A-Za-z0-9._-]{0,254}");
  /** The container (local: the directory under the export root) that holds de-identification configurations. */
  public static final String ANONYMIZATION_CONTAINER = "anonymization";
  private static final DateTimeFormatter STAMP =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

  private ExportNames() {}

  public static boolean isContainer(String name) {
    return name != null && CONTAINER.matcher(name).matches();
  }

  public static boolean isFileName(String name) {
    return name != null && FILE.matcher(name).matches();
  }

  /** A valid {@code _anonymizationConfig}: a file name of up to 255 letters, digits, '.', '_' and '-'. */
  public static boolean isConfigName(String name) {
    return name != null && CONFIG.matcher(name).matches();
  }

  /** The container of an export without {@code _container}: kick-off time and job id, as Azure names its folders. */
  public static String defaultContainer(Instant kickOff, UUID jobId) {
    return (STAMP.format(kickOff) + "-" + jobId).toLowerCase(java.util.Locale.ROOT);
  }
}

package dev.sluice.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/** The version Maven built (written into {@code dev/sluice/version.properties} by resource filtering). */
public final class Version implements IVersionProvider {
  private static final String CURRENT = read();

  public static String current() {
    return CURRENT;
  }

  private static String read() {
    try (InputStream in = Version.class.getResourceAsStream("/dev/sluice/version.properties")) {
      if (in == null) {
        throw new IllegalStateException("dev/sluice/version.properties is missing from the build");
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dev/sluice/version.properties", e);
    }
  }

  @Override
  public String[] getVersion() {
    return new String[] {"sluice " + current()};
  }
}

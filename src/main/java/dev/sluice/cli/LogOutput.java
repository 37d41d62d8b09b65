package dev.sluice.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import java.net.URL;
import java.util.Locale;
import org.slf4j.LoggerFactory;

/**
 * Switches Logback's console output to the configured format once the options are parsed:
 * Logback has read logback.xml before (with SLUICE_LOG_FORMAT from the environment only), so
 * it reads it again with the format chosen by flag or configuration file.
 */
final class LogOutput {
  private LogOutput() {}

  static void use(LogConfig.Format format) {
    // a configuration of the user's own (-Dlogback.configurationFile) is left as it is
    if (System.getProperty("logback.configurationFile") != null
        || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return;
    }
    URL xml = LogOutput.class.getResource("/logback.xml");
    if (xml == null) {
      return;
    }
    context.reset();
    // a context property: Logback resolves it before system properties and the environment
    context.putProperty("SLUICE_LOG_FORMAT", format.name().toLowerCase(Locale.ROOT));
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    try {
      configurator.doConfigure(xml);
    } catch (JoranException e) {
      throw new IllegalStateException("cannot read logback.xml again", e);
    }
  }
}

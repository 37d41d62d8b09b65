package dev.sluice.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** {@code --audit-log FILE}: the {@code sluice.audit} lines go to that file (appended), and only there. */
final class AuditFile {
  static final String LOGGER = "sluice.audit";

  private AuditFile() {}

  static void attach(Path file) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%msg%n");
    encoder.start();
    FileAppender<ILoggingEvent> appender = new FileAppender<>();
    appender.setContext(context);
    appender.setName("sluice-audit-file");
    appender.setFile(file.toString());
    appender.setAppend(true);
    appender.setEncoder(encoder);
    appender.start();
    Logger audit = context.getLogger(LOGGER);
    audit.detachAppender("sluice-audit-file");
    audit.addAppender(appender);
    audit.setAdditive(false);
  }
}

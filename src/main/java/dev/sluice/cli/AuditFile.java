package dev.sluice.cli;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/** {@code --audit-log FILE}: the {@code sluice.audit} lines go to that file (appended), and only there. */
final class AuditFile implements AutoCloseable {
  static final String LOGGER = "sluice.audit";

  private final Logger audit;
  private final FileAppender<ILoggingEvent> appender;

  private AuditFile(Logger audit, FileAppender<ILoggingEvent> appender) {
    this.audit = audit;
    this.appender = appender;
  }

  static AuditFile attach(Path file) {
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
    audit.addAppender(appender);
    audit.setAdditive(false);
    return new AuditFile(audit, appender);
  }

  /** The lines go back to the server log. */
  @Override
  public void close() {
    audit.detachAppender(appender);
    audit.setAdditive(true);
    appender.stop();
  }
}

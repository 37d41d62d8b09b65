package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.sluice.testing.TestServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Without --base-url the links in answers follow the request's Host header: harmless on
 * loopback, and said at start when the server listens where others reach it.
 */
class HostHeaderWarningTest {

  @Test
  void listening_beyond_loopback_without_base_url_warns_at_start_and_with_it_does_not() throws Exception {
    Path dataDir = Files.createTempDirectory("sluice-host");
    try {
      assertThat(warningsAtStart("--host", "0.0.0.0", "--port", "0", "--data-dir", dataDir.toString()))
          .singleElement().asString()
          .startsWith("Listening on 0.0.0.0 without --base-url: links in responses and export manifests follow"
              + " each request's Host header");
      assertThat(warningsAtStart("--host", "0.0.0.0", "--port", "0", "--data-dir", dataDir.toString(),
          "--base-url", "https://fhir.example.org/fhir")).isEmpty();
      assertThat(warningsAtStart("--host", "127.0.0.1", "--port", "0", "--data-dir", dataDir.toString())).isEmpty();
    } finally {
      TestServer.deleteTree(dataDir);
    }
  }

  /** Starts and stops a server configured as {@code sluice serve args}; the Application's warnings meanwhile. */
  private static List<String> warningsAtStart(String... args) {
    String[] line = new String[args.length + 1];
    line[0] = "serve";
    System.arraycopy(args, 0, line, 1, args.length);
    CommandLine main = Main.commandLine(Map.of(), line);
    main.parseArgs(line);
    ServeCommand serve = main.getSubcommands().get("serve").getCommand();
    Logger logger = (Logger) LoggerFactory.getLogger(Application.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    try {
      Application.start(serve.config()).close();
    } finally {
      logger.detachAppender(events);
    }
    return events.list.stream().filter(e -> e.getLevel() == Level.WARN).map(ILoggingEvent::getFormattedMessage).toList();
  }
}

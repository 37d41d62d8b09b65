package dev.sluice.imports;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sluice.store.ImportJobTable;
import dev.sluice.store.InitialLoadStage;
import dev.sluice.store.VersionImport;
import dev.sluice.testing.TestServer;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.sql.Connection;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * A wake-up (a job accepted) that arrives while an import worker is still looking for work is
 * not lost: the worker looks again at once instead of idling a whole poll. The worker here
 * polls once an hour and is held inside its claim while the wake arrives.
 */
class ImportWakeupTest {
  private static final String CLAIM = "update import_part p set status = 'running'";

  @Test
  void a_wake_while_a_worker_claims_makes_it_claim_again_at_once() throws Exception {
    try (TestServer server = TestServer.startFresh()) {
      Semaphore claims = new Semaphore(0);
      CountDownLatch inFirstClaim = new CountDownLatch(1);
      CountDownLatch goOn = new CountDownLatch(1);
      AtomicBoolean first = new AtomicBoolean(true);
      DataSource watched = watchClaims(server.app().dataSource(), () -> {
        claims.release();
        if (first.getAndSet(false)) {
          inFirstClaim.countDown();
          goOn.await();
        }
      });
      ImportSettings settings = new ImportSettings(1, Duration.ofMinutes(1), Duration.ofHours(1), 1000, 1 << 20, true,
          Duration.ofHours(1), Duration.ofHours(1));
      ExecutorService pool = Executors.newSingleThreadExecutor();
      // no job exists, so the parser and the writer are never reached
      ImportWorkers workers = new ImportWorkers(settings, new ImportJobTable(watched),
          new ImportSource(Files.createTempDirectory("sluice-wake"), Optional.empty(), Optional.empty()), null, null,
          new VersionImport(watched, null, null), new InitialLoadStage(watched), pool, "wake-test");
      try {
        workers.start();
        assertThat(inFirstClaim.await(60, TimeUnit.SECONDS)).as("the worker claims").isTrue();
        workers.wake(); // a job accepted while the worker looks: its claim may have missed it
        goOn.countDown();
        assertThat(claims.tryAcquire(2, 60, TimeUnit.SECONDS)).as("a second claim within a minute, not an hour")
            .isTrue();
      } finally {
        workers.close();
        pool.shutdownNow();
        pool.awaitTermination(30, TimeUnit.SECONDS);
      }
    }
  }

  private interface Hook {
    void run() throws InterruptedException;
  }

  /** The data source, whose connections run {@code onClaim} before each claim statement is prepared. */
  private static DataSource watchClaims(DataSource real, Hook onClaim) {
    return (DataSource) Proxy.newProxyInstance(ImportWakeupTest.class.getClassLoader(), new Class<?>[] {DataSource.class},
        (proxy, method, args) -> {
          Object result = invoke(method, real, args);
          if (!method.getName().equals("getConnection")) {
            return result;
          }
          Connection c = (Connection) result;
          return Proxy.newProxyInstance(ImportWakeupTest.class.getClassLoader(), new Class<?>[] {Connection.class},
              (p, m, a) -> {
                if (m.getName().equals("prepareStatement") && a[0] instanceof String sql && sql.contains(CLAIM)) {
                  onClaim.run();
                }
                return invoke(m, c, a);
              });
        });
  }

  private static Object invoke(java.lang.reflect.Method m, Object target, Object[] args) throws Throwable {
    try {
      return m.invoke(target, args);
    } catch (InvocationTargetException e) {
      throw e.getCause();
    }
  }
}

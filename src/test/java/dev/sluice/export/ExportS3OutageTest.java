package dev.sluice.export;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.cli.Config;
import dev.sluice.cli.ExportConfig;
import dev.sluice.cli.S3Config;
import java.nio.file.Path;
import java.util.function.Function;
import org.junit.jupiter.api.extension.ExtendWith;

/** An S3 server that goes away and comes back: a real S3Mock stopped and started again. */
@ExtendWith(S3Mock.class)
class ExportS3OutageTest extends StoreOutageTests {
  @Override
  protected Function<Path, Config> config(int storeRetries) {
    return ExportFixture.config(e -> new ExportConfig(e.storage(), null, e.workers(), e.maxRunningJobs(),
        e.maxFileBytes(), 100, e.partResources(), e.leaseSeconds(), e.retentionSeconds(), true, storeRetries)
        .withS3(new S3Config(S3Mock.BUCKET, "", "us-east-1", S3Mock.endpoint(), null, S3Config.DEFAULT_PART_BYTES)));
  }

  @Override
  protected void stopStore() throws Exception {
    S3Mock.stop();
  }

  @Override
  protected void startStore() throws Exception {
    S3Mock.start();
  }

  @Override
  protected void checkManifest(JsonNode manifest) {
    assertThat(manifest.get("requiresAccessToken").asBoolean()).isFalse();
  }
}

package dev.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code --export-storage s3} and its {@code --s3-*} options: parsed, and checked at start. */
class S3OptionsTest {
  private static Config parse(Map<String, String> environment, String... args) {
    CommandLine line = Main.commandLine(environment, args);
    line.parseArgs(args);
    ServeCommand serve = line.getSubcommands().get("serve").getCommand();
    return serve.config();
  }

  @Test
  void s3_options_are_parsed_and_the_prefix_loses_its_slashes() {
    Config config = parse(Map.of(), "serve", "--export-storage", "s3", "--s3-bucket", "exports",
        "--s3-kms-key-id", "alias/sluice", "--s3-prefix", "/bulk/fhir/", "--s3-region", "eu-west-1",
        "--s3-endpoint", "http://127.0.0.1:9000", "--s3-part-size", "16777216");
    assertThat(config.export().storage()).isEqualTo("s3");
    assertThat(config.export().s3()).isEqualTo(
        new S3Config("exports", "bulk/fhir", "eu-west-1", "http://127.0.0.1:9000", "alias/sluice", 16L * 1024 * 1024));
  }

  @Test
  void without_s3_options_the_defaults_are_no_prefix_the_sdks_region_aws_sse_s3_and_8_mib_parts() {
    S3Config s3 = parse(Map.of(), "serve", "--export-storage", "s3", "--s3-bucket", "exports").export().s3();
    assertThat(s3).isEqualTo(new S3Config("exports", "", null, null, null, 8L * 1024 * 1024));
  }

  @Test
  void s3_without_a_bucket_is_refused_by_name() {
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "s3"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--s3-bucket (SLUICE_S3_BUCKET)");
  }

  @Test
  void parts_below_s3s_minimum_a_bad_endpoint_and_retention_past_seven_days_are_refused() {
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "s3", "--s3-bucket", "b",
        "--s3-part-size", "1048576", "--s3-endpoint", "localhost:9000", "--export-retention", "864000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--s3-part-size (SLUICE_S3_PART_SIZE) must be between 5242880")
        .hasMessageContaining("--s3-endpoint (SLUICE_S3_ENDPOINT) must be an http or https URL, got localhost:9000")
        .hasMessageContaining("must be at most 604800 seconds (7 days) with --export-storage s3");
  }

  @Test
  void another_storage_is_refused_with_the_three_names() {
    assertThatThrownBy(() -> parse(Map.of(), "serve", "--export-storage", "gcs"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("must be local, azure or s3, got gcs");
  }
}

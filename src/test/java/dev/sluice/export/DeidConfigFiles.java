package dev.sluice.export;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sluice.testing.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** De-identification configurations for export tests: the reference files, and copies placed in a local store. */
final class DeidConfigFiles {
  static final String DATE_SHIFT_KEY = "sluice-export-test-date-key";
  static final String CRYPTO_HASH_KEY = "sluice-export-test-hash-key";

  private DeidConfigFiles() {}

  static byte[] reference(String name) {
    try {
      return Files.readAllBytes(Fixtures.sharedDir().resolve("reference/anonymization/configurations").resolve(name));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The HIPAA Safe Harbor sample with fixed keys and the given date-shift scope. */
  static byte[] safeHarbor(String dateShiftScope) {
    try {
      ObjectNode config = (ObjectNode) ExportClient.JSON.readTree(stripBom(reference("configuration-sample.json")));
      ObjectNode parameters = (ObjectNode) config.get("parameters");
      parameters.put("dateShiftKey", DATE_SHIFT_KEY);
      parameters.put("cryptoHashKey", CRYPTO_HASH_KEY);
      parameters.put("dateShiftScope", dateShiftScope);
      return ExportClient.JSON.writeValueAsBytes(config);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Writes a configuration into the local store's anonymization container of the server. */
  static void put(ExportClient client, String name, byte[] bytes) {
    try {
      Path dir = client.server().dataDir().resolve("exports").resolve(ExportNames.ANONYMIZATION_CONTAINER);
      Files.createDirectories(dir);
      Files.write(dir.resolve(name), bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] stripBom(byte[] b) {
    return b.length >= 3 && (b[0] & 0xff) == 0xEF ? java.util.Arrays.copyOfRange(b, 3, b.length) : b;
  }
}

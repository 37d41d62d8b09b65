package dev.sluice.export;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The keys a de-identification configuration leaves empty, chosen for one export: a copy of the
 * configuration with them filled in, which the job row keeps (never shown to clients).
 */
final class JobKeys {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final SecureRandom RANDOM = new SecureRandom();

  private JobKeys() {}

  /**
   * @param config a configuration already validated
   * @param names the empty keys ({@code cryptoHashKey}, {@code dateShiftKey}, {@code encryptKey})
   * @return the configuration with each of them set to 32 random hex digits (128 bits; as an
   *     {@code encryptKey}, 32 UTF-8 bytes: AES-256)
   */
  static byte[] chosen(byte[] config, List<String> names) {
    try {
      ObjectNode root = (ObjectNode) JSON.readTree(config);
      ObjectNode parameters = root.get("parameters") instanceof ObjectNode p ? p : root.putObject("parameters");
      for (String name : names) {
        byte[] key = new byte[16];
        RANDOM.nextBytes(key);
        parameters.put(name, HexFormat.of().formatHex(key));
      }
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new UncheckedIOException("a validated configuration is JSON", e);
    }
  }
}

package dev.sluice.testing;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** PEM text of DER bytes, as openssl writes keys and certificates. */
public final class Pem {
  private Pem() {}

  /** @param label {@code PRIVATE KEY}, {@code PUBLIC KEY}, {@code CERTIFICATE}, ... */
  public static String of(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }
}

package dev.sluice.auth;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keys and certificates in PEM files, read with the JDK: certificates (a chain, leaf first),
 * unencrypted PKCS#8 private keys ({@code BEGIN PRIVATE KEY}, RSA or EC), which is what
 * {@code openssl genpkey} writes, and public keys ({@code BEGIN PUBLIC KEY}, what
 * {@code openssl pkey -pubout} writes). Other key forms get a message saying how to convert them.
 */
public final class PemFiles {
  private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  private PemFiles() {}

  /** @throws IllegalArgumentException when the file holds no usable key, saying why */
  public static PrivateKey privateKey(Path file) {
    String text = read(file);
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      String label = m.group(1);
      if (label.equals("PRIVATE KEY")) {
        byte[] der = Base64.getMimeDecoder().decode(m.group(2));
        for (String algorithm : List.of("RSA", "EC")) {
          try {
            return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
          } catch (GeneralSecurityException e) {
            // try the next algorithm
          }
        }
        throw new IllegalArgumentException(file + " holds a private key that is neither RSA nor EC");
      }
      if (label.equals("RSA PRIVATE KEY") || label.equals("EC PRIVATE KEY") || label.equals("ENCRYPTED PRIVATE KEY")) {
        throw new IllegalArgumentException(file + " holds a '" + label + "'; convert it to an unencrypted PKCS#8 key"
            + " ('BEGIN PRIVATE KEY') with: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
      }
    }
    throw new IllegalArgumentException(file + " holds no PEM private key ('-----BEGIN PRIVATE KEY-----')");
  }

  /** @throws IllegalArgumentException when the file holds no RSA or EC public key, saying why */
  public static PublicKey publicKey(Path file) {
    Matcher m = BLOCK.matcher(read(file));
    while (m.find()) {
      if (m.group(1).equals("PUBLIC KEY")) {
        byte[] der = Base64.getMimeDecoder().decode(m.group(2));
        for (String algorithm : List.of("RSA", "EC")) {
          try {
            return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(der));
          } catch (GeneralSecurityException e) {
            // try the next algorithm
          }
        }
        throw new IllegalArgumentException(file + " holds a public key that is neither RSA nor EC");
      }
    }
    throw new IllegalArgumentException(file + " holds no '-----BEGIN PUBLIC KEY-----' block"
        + " (make one with: openssl pkey -in private.pem -pubout -out public.pem)");
  }

  /** @throws IllegalArgumentException when the file holds no certificate */
  public static List<X509Certificate> certificates(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> chain = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
          .map(X509Certificate.class::cast).toList();
      if (chain.isEmpty()) {
        throw new IllegalArgumentException(file + " holds no PEM certificate");
      }
      return chain;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot read the certificates in " + file + ": " + e.getMessage(), e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }
}

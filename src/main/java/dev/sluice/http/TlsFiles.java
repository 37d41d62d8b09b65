package dev.sluice.http;

import dev.sluice.auth.PemFiles;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import org.eclipse.jetty.util.ssl.SslContextFactory;

/**
 * {@code --tls-cert} and {@code --tls-key}: the server's certificate chain and private key as
 * PEM files, turned into what Jetty's HTTPS connector takes.
 */
public record TlsFiles(Path certificate, Path privateKey) {
  private static final char[] IN_MEMORY = new char[0];

  /** @throws IllegalArgumentException when a file is unreadable, or the key is not of the certificate's kind */
  SslContextFactory.Server sslContextFactory() {
    PrivateKey key = PemFiles.privateKey(privateKey);
    X509Certificate[] chain = PemFiles.certificates(certificate).toArray(X509Certificate[]::new);
    if (!chain[0].getPublicKey().getAlgorithm().equals(key.getAlgorithm())) {
      throw new IllegalArgumentException("--tls-key " + privateKey + " is an " + key.getAlgorithm()
          + " key, the certificate in --tls-cert " + certificate + " is for " + chain[0].getPublicKey().getAlgorithm());
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("sluice", key, IN_MEMORY, chain);
      SslContextFactory.Server factory = new SslContextFactory.Server();
      factory.setKeyStore(store);
      factory.setKeyStorePassword("");
      factory.setKeyManagerPassword("");
      return factory;
    } catch (java.security.GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("cannot use --tls-cert/--tls-key: " + e.getMessage(), e);
    }
  }
}

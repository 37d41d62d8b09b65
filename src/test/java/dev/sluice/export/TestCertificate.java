package dev.sluice.export;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * A self-signed certificate for 127.0.0.1 made by the JDK's keytool, in a PKCS#12 file that
 * serves both as a server's key store and as a client's trust store.
 */
record TestCertificate(Path file, String password) {

  static TestCertificate make() {
    try {
      Path dir = Files.createTempDirectory("sluice-tls");
      Path file = dir.resolve("localhost.p12");
      String password = "changeit";
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", "localhost", "-keyalg", "RSA",
          "-keysize", "2048", "-validity", "2", "-dname", "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
          "-storetype", "PKCS12", "-keystore", file.toString(), "-storepass", password, "-keypass", password))
          .redirectErrorStream(true).redirectOutput(dir.resolve("keytool.log").toFile()).start();
      if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("keytool failed: " + Files.readString(dir.resolve("keytool.log")));
      }
      return new TestCertificate(file, password);
    } catch (Exception e) {
      throw new IllegalStateException("could not make a test certificate", e);
    }
  }

  /** JVM options that make the SDKs of a child JVM trust this certificate (and only it). */
  List<String> trustOptions() {
    return List.of("-Djavax.net.ssl.trustStore=" + file, "-Djavax.net.ssl.trustStorePassword=" + password,
        "-Djavax.net.ssl.trustStoreType=PKCS12");
  }

  /** A context that serves with the certificate and trusts it. */
  SSLContext context() throws Exception {
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(file)) {
      store.load(in, password.toCharArray());
    }
    KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keys.init(store, password.toCharArray());
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(store);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
    return context;
  }
}

package dev.sluice.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sluice.cli.EdgeConfig;
import dev.sluice.testing.Pem;
import dev.sluice.testing.TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code --tls-cert}/{@code --tls-key}: HTTPS served directly with a self-signed certificate made here. */
class TlsTest {
  private static TestServer server;
  private static KeyStore trusted;

  @BeforeAll
  static void start() throws Exception {
    Path dir = Files.createTempDirectory("sluice-tls");
    Path store = dir.resolve("self-signed.p12");
    keytool("-genkeypair", "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", "changeit",
        "-alias", "sluice", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname", "CN=localhost",
        "-ext", "SAN=dns:localhost,ip:127.0.0.1");
    KeyStore p12 = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      p12.load(in, "changeit".toCharArray());
    }
    Certificate cert = p12.getCertificate("sluice");
    Path certPem = dir.resolve("cert.pem");
    Path keyPem = dir.resolve("key.pem");
    Files.writeString(certPem, Pem.of("CERTIFICATE", cert.getEncoded()));
    Files.writeString(keyPem, Pem.of("PRIVATE KEY", p12.getKey("sluice", "changeit".toCharArray()).getEncoded()));
    trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("sluice", cert);

    server = TestServer.start(dir, d -> TestServer.config(d).with(
        new EdgeConfig(EdgeConfig.none().oidc(), Optional.of(new TlsFiles(certPem, keyPem)), Optional.empty()))
        .validate());
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  private static void keytool(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "keytool")
        .toString()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  private static HttpClient trusting() throws Exception {
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trusted);
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(ssl).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private static HttpRequest get(String scheme, String path) {
    return HttpRequest.newBuilder(URI.create(scheme + "://localhost:" + server.app().port() + path))
        .timeout(Duration.ofSeconds(30)).build();
  }

  @Test
  void the_fhir_api_is_served_over_https_with_the_given_certificate() throws Exception {
    try (HttpClient client = trusting()) {
      HttpResponse<String> r = client.send(get("https", "/fhir/metadata"), HttpResponse.BodyHandlers.ofString());

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("CapabilityStatement");
      assertThat(r.sslSession()).isPresent();
    }
  }

  @Test
  void links_in_answers_are_https_links() throws Exception {
    try (HttpClient client = trusting()) {
      HttpResponse<String> r = client.send(get("https", "/fhir/Patient?_count=1"), HttpResponse.BodyHandlers.ofString());

      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("\"url\":\"https://localhost:" + server.app().port() + "/fhir/Patient");
    }
  }

  @Test
  void a_client_that_does_not_trust_the_certificate_cannot_connect() {
    try (HttpClient client = HttpClient.newHttpClient()) {
      assertThatThrownBy(() -> client.send(get("https", "/fhir/metadata"), HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(SSLHandshakeException.class);
    }
  }

  @Test
  void plain_http_is_not_served() {
    try (HttpClient client = HttpClient.newHttpClient()) {
      assertThatThrownBy(() -> client.send(get("http", "/fhir/metadata"), HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);
    }
  }
}

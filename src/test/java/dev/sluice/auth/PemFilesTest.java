package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesTest {
  @TempDir
  Path dir;

  private Path pem(String label, byte[] der) throws Exception {
    Path file = Files.createTempFile(dir, "key", ".pem");
    Files.writeString(file, "-----BEGIN " + label + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der) + "\n-----END " + label + "-----\n");
    return file;
  }

  @Test
  void reads_rsa_and_ec_public_and_private_keys() throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    KeyPairGenerator ecGenerator = KeyPairGenerator.getInstance("EC");
    ecGenerator.initialize(new ECGenParameterSpec("secp384r1"));
    KeyPair ec = ecGenerator.generateKeyPair();
    assertThat(PemFiles.publicKey(pem("PUBLIC KEY", rsa.getPublic().getEncoded()))).isEqualTo(rsa.getPublic());
    assertThat(PemFiles.publicKey(pem("PUBLIC KEY", ec.getPublic().getEncoded()))).isEqualTo(ec.getPublic());
    assertThat(PemFiles.privateKey(pem("PRIVATE KEY", rsa.getPrivate().getEncoded()))).isEqualTo(rsa.getPrivate());
    assertThat(PemFiles.privateKey(pem("PRIVATE KEY", ec.getPrivate().getEncoded()))).isEqualTo(ec.getPrivate());
  }

  @Test
  void a_private_key_given_as_public_key_is_refused_saying_how_to_make_one() throws Exception {
    KeyPair rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair();
    Path file = pem("PRIVATE KEY", rsa.getPrivate().getEncoded());
    assertThatThrownBy(() -> PemFiles.publicKey(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no '-----BEGIN PUBLIC KEY-----' block").hasMessageContaining("openssl pkey");
  }

  @Test
  void a_public_key_block_that_holds_no_key_is_refused() throws Exception {
    Path file = pem("PUBLIC KEY", "not a key".getBytes());
    assertThatThrownBy(() -> PemFiles.publicKey(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("neither RSA nor EC");
  }

  @Test
  void a_missing_file_is_refused_with_its_name() {
    Path file = dir.resolve("absent.pem");
    assertThatThrownBy(() -> PemFiles.publicKey(file)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("absent.pem");
  }
}

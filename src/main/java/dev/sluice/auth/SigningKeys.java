package dev.sluice.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import dev.sluice.store.SigningKeyTable;
import java.sql.SQLException;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RSA keys Sluice signs access tokens with, kept in the database so that every process
 * sharing it signs and verifies alike. The newest unretired key signs; a rotation retires the
 * others, which still verify (and stay published) until the longest-lived token they could
 * have signed has expired.
 */
public final class SigningKeys {
  private static final Logger log = LoggerFactory.getLogger(SigningKeys.class);

  static final JWSAlgorithm ALGORITHM = JWSAlgorithm.RS384;
  private static final int KEY_BITS = 2048;
  /** At most this often is the table read again for a kid not known here (rotations from other processes). */
  private static final Duration RELOAD_AT_MOST_EVERY = Duration.ofSeconds(1);

  private final SigningKeyTable table;
  private final Duration verifyAfterRetirement;
  private final Clock clock;
  private volatile Map<String, RSAKey> loaded = Map.of();
  private volatile Instant loadedAt = Instant.EPOCH;

  /** @param verifyAfterRetirement how long a retired key still verifies: the longest token lifetime */
  public SigningKeys(SigningKeyTable table, Duration verifyAfterRetirement, Clock clock) {
    this.table = table;
    this.verifyAfterRetirement = verifyAfterRetirement;
    this.clock = clock;
  }

  /** The key that signs now; the first one is made when there is none. */
  public RSAKey current() {
    List<SigningKeyTable.Key> live = reload();
    for (SigningKeyTable.Key k : live) {
      if (k.retiredAt() == null) {
        return loaded.get(k.kid());
      }
    }
    RSAKey made = store(false);
    log.info("Made the first access-token signing key {}", made.getKeyID());
    return made;
  }

  /** Makes a new signing key and retires the others; returns its id. */
  public String rotate() {
    RSAKey made = store(true);
    log.info("Rotated the access-token signing key: {} signs from now on", made.getKeyID());
    return made.getKeyID();
  }

  /** The public keys that verify tokens, as published at the JWKS URL. */
  public JWKSet publicKeys() {
    reload();
    return new JWKSet(loaded.values().stream().map(k -> (JWK) k.toPublicJWK()).toList());
  }

  /** The key with this id that may verify a token, or null (read again from the table now and then). */
  RSAKey forVerification(String kid) {
    RSAKey key = loaded.get(kid);
    if (key == null && Duration.between(loadedAt, clock.instant()).compareTo(RELOAD_AT_MOST_EVERY) >= 0) {
      reload();
      key = loaded.get(kid);
    }
    return key;
  }

  private RSAKey store(boolean retireOthers) {
    try {
      RSAKey key = new RSAKeyGenerator(KEY_BITS).keyID(UUID.randomUUID().toString()).keyUse(KeyUse.SIGNATURE)
          .algorithm(ALGORITHM).generate();
      table.insert(key.getKeyID(), key.toJSONString(), retireOthers);
      reload();
      return key;
    } catch (JOSEException e) {
      throw new IllegalStateException("RSA key generation failed", e);
    } catch (SQLException e) {
      throw new IllegalStateException("Storing the signing key failed: " + e.getMessage(), e);
    }
  }

  private List<SigningKeyTable.Key> reload() {
    try {
      Instant now = clock.instant();
      List<SigningKeyTable.Key> live = table.live(now.minus(verifyAfterRetirement));
      Map<String, RSAKey> keys = new LinkedHashMap<>();
      for (SigningKeyTable.Key k : live) {
        keys.put(k.kid(), RSAKey.parse(k.jwk()));
      }
      loaded = Map.copyOf(keys);
      loadedAt = now;
      return live;
    } catch (SQLException e) {
      throw new IllegalStateException("Reading the signing keys failed: " + e.getMessage(), e);
    } catch (ParseException e) {
      throw new IllegalStateException("A stored signing key is not a valid RSA JWK: " + e.getMessage(), e);
    }
  }
}

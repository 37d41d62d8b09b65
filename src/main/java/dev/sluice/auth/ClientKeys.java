package dev.sluice.auth;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import dev.sluice.store.ClientRow;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.text.ParseException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where a registered client's public keys come from: its inline JWK Set, or its
 * {@code jwks_uri}, fetched and cached (refreshed when an unknown {@code kid} arrives, at most
 * every 30 s: Nimbus's rate limit, which keeps a flood of made-up kids off the client's host).
 */
public final class ClientKeys {
  private static final int TIMEOUT_MILLIS = 5_000;
  private static final int SIZE_LIMIT_BYTES = 256 * 1024;

  private final Map<String, JWKSource<SecurityContext>> byUrl = new ConcurrentHashMap<>();

  /** @throws OAuthError invalid_client when the registered keys cannot be read */
  JWKSource<SecurityContext> of(ClientRow client) {
    if (client.jwks() != null) {
      try {
        return new ImmutableJWKSet<>(JWKSet.parse(client.jwks()));
      } catch (ParseException e) {
        throw OAuthError.invalidClient("The client's registered JWK Set cannot be read: " + e.getMessage());
      }
    }
    return byUrl.computeIfAbsent(client.jwksUrl(), url -> JWKSourceBuilder
        .create(toUrl(url), new DefaultResourceRetriever(TIMEOUT_MILLIS, TIMEOUT_MILLIS, SIZE_LIMIT_BYTES))
        .build());
  }

  private static URL toUrl(String url) {
    try {
      return new URI(url).toURL();
    } catch (URISyntaxException | MalformedURLException | IllegalArgumentException e) {
      throw OAuthError.invalidClient("The client's registered jwks_url '" + url + "' is not a URL");
    }
  }

  /**
   * Whether a URL may serve a client's keys: https, or http on this machine only (for trying
   * Sluice out and for tests); SMART requires TLS.
   */
  public static boolean acceptableJwksUrl(String url) {
    try {
      URI uri = new URI(url);
      String scheme = uri.getScheme();
      String host = uri.getHost();
      if (host == null) {
        return false;
      }
      return "https".equals(scheme) || ("http".equals(scheme)
          && (host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]")));
    } catch (URISyntaxException e) {
      return false;
    }
  }
}

package dev.sluice.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Date;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class VerifiedTokenCacheTest {
  private Instant now = Instant.parse("2026-12-04T12:00:00Z");
  private final Clock clock = new Clock() {
    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  };
  private final AtomicInteger checks = new AtomicInteger();
  /** Accepts tokens whose subject is "good", as a verifier that checks signatures would. */
  private final TokenVerifier verifier = token -> {
    checks.incrementAndGet();
    try {
      if (!"good".equals(com.nimbusds.jwt.JWTParser.parse(token).getJWTClaimsSet().getSubject())) {
        throw new InvalidTokenException("bad");
      }
    } catch (java.text.ParseException e) {
      throw new InvalidTokenException("unreadable", e);
    }
    return Caller.of("client", Scopes.parse("system/*.rs"));
  };

  private String token(String subject, Instant expires) {
    return new PlainJWT(new JWTClaimsSet.Builder().subject(subject).expirationTime(Date.from(expires)).build())
        .serialize();
  }

  @Test
  void a_token_is_checked_once_while_it_is_valid() {
    VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 10);
    String token = token("good", now.plusSeconds(300));

    cache.verify(token);
    now = now.plusSeconds(299);
    Caller caller = cache.verify(token);

    assertThat(checks).hasValue(1);
    assertThat(caller.clientId()).isEqualTo("client");
  }

  @Test
  void a_token_is_checked_again_once_it_has_expired() {
    VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 10);
    String token = token("good", now.plusSeconds(300));
    cache.verify(token);

    now = now.plus(Duration.ofSeconds(300));
    cache.verify(token);

    assertThat(checks).hasValue(2);
  }

  @Test
  void a_refused_token_is_never_remembered() {
    VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 10);
    String token = token("forged", now.plusSeconds(300));

    assertThatThrownBy(() -> cache.verify(token)).isInstanceOf(InvalidTokenException.class);
    assertThatThrownBy(() -> cache.verify(token)).isInstanceOf(InvalidTokenException.class);
    assertThat(checks).hasValue(2);
  }

  @Test
  void past_its_capacity_the_cache_still_answers_rightly() {
    VerifiedTokenCache cache = new VerifiedTokenCache(verifier, clock, 2);
    for (int i = 0; i < 5; i++) {
      cache.verify(token("good", now.plusSeconds(100 + i)));
    }
    String last = token("good", now.plusSeconds(104));

    cache.verify(last);

    assertThat(checks).hasValue(5);
  }
}

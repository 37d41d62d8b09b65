package dev.sluice.auth;

/** {@code --auth}: who may call the FHIR API. */
public enum AuthMode {
  /** Anyone who reaches the port; only on a loopback address unless explicitly allowed. */
  NONE,
  /** Sluice is its own SMART Backend Services authorization server. */
  SMART,
  /** Tokens of an external OpenID Connect provider. */
  OIDC
}

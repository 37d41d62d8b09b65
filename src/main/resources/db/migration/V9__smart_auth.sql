-- SMART Backend Services (--auth smart): registered clients, the assertion ids already seen,
-- and the keys Sluice signs access tokens with (docs/security.md).

-- A client and what it may be granted: its keys are at jwks_url or inline in jwks, never both.
create table auth_client (
  id         text primary key,
  jwks_url   text,
  jwks       text,
  scope      text not null,
  created_at timestamptz not null default now(),
  check ((jwks_url is null) <> (jwks is null))
);

-- Each client assertion's jti, kept until the assertion expires: a second use is a replay,
-- refused by every process sharing the database.
create table auth_assertion_jti (
  client_id  text not null,
  jti        text not null,
  expires_at timestamptz not null,
  primary key (client_id, jti)
);
create index auth_assertion_jti_expires on auth_assertion_jti (expires_at);

-- Access-token signing keys (private JWK JSON). The newest unretired key signs; retired keys
-- stay published until every token they signed has expired.
create table auth_signing_key (
  kid        text primary key,
  jwk        text not null,
  created_at timestamptz not null default clock_timestamp(),
  retired_at timestamptz
);

-- This installation's token issuer when no --base-url names it: one row, made once.
create table auth_server (
  issuer text not null
);
insert into auth_server (issuer) values ('urn:uuid:' || gen_random_uuid());

-- The search index: one table per kind of search parameter, holding the values of the
-- current version of each resource (rows are replaced on every write, removed on delete).
-- key identifies (resource type, parameter) as a stable hash computed by the server
-- (dev.sluice.fhir.SearchParam.keyOf); grp ties together the parts of one composite value
-- (0 for rows of ordinary parameters). See docs/storage.md.

create table idx_token (
  res_pk  bigint   not null,
  key     integer  not null,
  grp     smallint not null,
  system  text,
  code    text
);
create index idx_token_value on idx_token (key, code, system) include (res_pk);
create index idx_token_res on idx_token (res_pk, key);

-- norm: lower case without accents, for starts-with and contains; exact: as written.
-- Byte order (collate "C") so that a prefix is one index range.
create table idx_string (
  res_pk  bigint   not null,
  key     integer  not null,
  grp     smallint not null,
  norm    text collate "C" not null,
  exact   text not null
);
create index idx_string_value on idx_string (key, norm) include (res_pk);
create index idx_string_res on idx_string (res_pk, key);

-- The range a date, partial date, Period or Timing covers: lo inclusive, hi exclusive,
-- -infinity/infinity for open ends.
create table idx_date (
  res_pk  bigint      not null,
  key     integer     not null,
  grp     smallint    not null,
  lo      timestamptz not null,
  hi      timestamptz not null
);
create index idx_date_lo on idx_date (key, lo) include (hi, res_pk);
create index idx_date_hi on idx_date (key, hi) include (lo, res_pk);
create index idx_date_res on idx_date (res_pk, key);

create table idx_number (
  res_pk  bigint   not null,
  key     integer  not null,
  grp     smallint not null,
  value   numeric  not null
);
create index idx_number_value on idx_number (key, value) include (res_pk);
create index idx_number_res on idx_number (res_pk, key);

create table idx_quantity (
  res_pk  bigint   not null,
  key     integer  not null,
  grp     smallint not null,
  value   numeric  not null,
  system  text,
  code    text,
  unit    text
);
create index idx_quantity_value on idx_quantity (key, value) include (res_pk);
create index idx_quantity_res on idx_quantity (res_pk, key);

-- A local reference as (target_type, target_id); any other reference (absolute URL, urn,
-- canonical) as url.
create table idx_reference (
  res_pk       bigint   not null,
  key          integer  not null,
  grp          smallint not null,
  target_type  text,
  target_id    text,
  url          text
);
create index idx_reference_target on idx_reference (key, target_id, target_type) include (res_pk);
create index idx_reference_url on idx_reference (key, url) include (res_pk) where url is not null;
create index idx_reference_res on idx_reference (res_pk, key);

create table idx_uri (
  res_pk  bigint   not null,
  key     integer  not null,
  grp     smallint not null,
  uri     text collate "C" not null
);
create index idx_uri_value on idx_uri (key, uri) include (res_pk);
create index idx_uri_res on idx_uri (res_pk, key);

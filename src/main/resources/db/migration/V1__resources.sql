-- Resources and their versions. See docs/storage.md for the reasoning.

-- One row per logical resource: where its current version is.
create table resource (
  pk            bigint generated always as identity primary key,
  res_type      text        not null,
  res_id        text        not null,
  version       integer     not null,
  last_updated  timestamptz not null,
  deleted       boolean     not null,
  constraint resource_type_id unique (res_type, res_id)
);

-- Every version of every resource, as the exact minified JSON served for it.
-- valid_to is when the next version replaced it (null for the current version), so that
-- "the version current at time T" is last_updated <= T and (valid_to is null or valid_to > T).
create table resource_version (
  pk            bigint      not null references resource (pk),
  version       integer     not null,
  res_type      text        not null,
  res_id        text        not null,
  last_updated  timestamptz not null,
  valid_to      timestamptz,
  deleted       boolean     not null,
  content       bytea,
  primary key (pk, version)
);
alter table resource_version alter column content set storage external;

-- type and system history, newest first; _since filters
create index resource_version_updated on resource_version (last_updated, pk);
create index resource_version_type_updated on resource_version (res_type, last_updated, pk);
-- type listing and export scans of the current versions by key range
create index resource_type_pk on resource (res_type, pk) where not deleted;

-- Patient compartment membership of the current version of each resource, by the patient's
-- logical id (references need not resolve at write time, so the patient may not exist yet).
-- A Patient is in its own compartment.
create table compartment (
  patient_id  text   not null,
  res_pk      bigint not null references resource (pk),
  res_type    text   not null,
  primary key (patient_id, res_type, res_pk)
);
create index compartment_res on compartment (res_pk);

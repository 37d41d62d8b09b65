-- Bulk Data export: durable jobs, their parts and files. See docs/storage.md and docs/export.md.

-- Export scans read one resource type by key range; the primary key (pk, version) would
-- read every type's rows in the range.
create index resource_version_type_pk on resource_version (res_type, pk);

create table export_job (
  id               uuid        primary key,
  client           text        not null,  -- who asked (see docs/export.md, "Clients")
  request_key      text        not null,  -- hash of the normalised request, for de-duplication
  request_url      text        not null,  -- the kick-off URL, for the manifest
  request          text        not null,  -- the parsed request as JSON
  status           text        not null,  -- queued | running | completed | failed | cancelled
  transaction_time timestamptz not null,  -- the snapshot every part reads
  wait_xids        text        not null,  -- transactions in progress at kick-off (comma list of xid8)
  container        text        not null,
  created_at       timestamptz not null default now(),
  finished_at      timestamptz,
  expires_at       timestamptz,
  owner            text,                  -- the process planning a queued job
  lease_until      timestamptz,
  error_status     integer,
  error_text       text
);
-- one queued or running job per client and request: an identical kick-off returns it
create unique index export_job_active on export_job (client, request_key) where status in ('queued', 'running');
create index export_job_status on export_job (status, created_at);

-- The patients whose compartments a Patient (with `patient`) or Group export reads.
create table export_member (
  job_id     uuid not null references export_job (id) on delete cascade,
  patient_id text not null,
  primary key (job_id, patient_id)
);

-- One part: one resource type times one pk range (kind 'resources'), or the deletions
-- since _since (kind 'deleted'). Claimed with FOR UPDATE SKIP LOCKED under a lease.
create table export_part (
  job_id      uuid    not null references export_job (id) on delete cascade,
  part_no     integer not null,
  kind        text    not null,
  res_type    text,
  pk_from     bigint  not null,
  pk_to       bigint  not null,  -- inclusive
  status      text    not null default 'pending',  -- pending | running | done
  owner       text,
  lease_until timestamptz,
  attempt     integer not null default 0,
  resources   bigint  not null default 0,
  bytes       bigint  not null default 0,
  primary key (job_id, part_no)
);
create index export_part_open on export_part (job_id) where status <> 'done';

-- Every file a part attempt opened. Numbers are never reused within a job, so a retried
-- part never overwrites the file of a newer attempt.
create table export_file (
  job_id    uuid    not null references export_job (id) on delete cascade,
  prefix    text    not null,  -- the resource type, 'deleted-Bundle' or 'error-OperationOutcome'
  seq       integer not null,
  kind      text    not null,  -- output | deleted | error
  res_type  text    not null,  -- the type the manifest names
  part_no   integer not null,
  attempt   integer not null,
  state     text    not null,  -- writing | done | discarded
  resources bigint  not null default 0,
  bytes     bigint  not null default 0,
  primary key (job_id, prefix, seq)
);

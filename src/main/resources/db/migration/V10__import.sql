-- Bulk $import: durable jobs, one part per input file, checkpointed line by line. See
-- docs/import.md and docs/storage.md.

create table import_job (
  id               uuid        primary key,
  client           text        not null,  -- who asked: every status, error and cancel lookup filters on it
  mode             text        not null,  -- InitialLoad | IncrementalLoad
  request_url      text        not null,  -- the kick-off URL, for the status answer
  status           text        not null,  -- running | completed | failed | cancelled
  created_at       timestamptz not null default now(),
  transaction_time timestamptz not null default now(),
  finished_at      timestamptz,
  error_text       text
);
create index import_job_status on import_job (status, created_at);

-- One part per input: its URL as given, where it is read from, and how far it got. next_line is
-- written in the same transaction as the lines before it, so a part taken over after a crash
-- goes on at the first line not yet imported: every line is imported exactly once.
create table import_part (
  job_id      uuid    not null references import_job (id) on delete cascade,
  part_no     integer not null,
  input_url   text    not null,
  location    text    not null,          -- the store's name for the input (a path under the import folder, a blob)
  res_type    text,                      -- the input's declared type, or null
  status      text    not null default 'pending',  -- pending | running | done
  owner       text,
  lease_until timestamptz,
  attempt     integer not null default 0,
  next_line   bigint  not null default 1,
  imported    bigint  not null default 0,
  errors      bigint  not null default 0,
  primary key (job_id, part_no)
);
create index import_part_open on import_part (status) where status <> 'done';

-- Resources imported per input and type: the status answer's output entries.
create table import_count (
  job_id   uuid    not null,
  part_no  integer not null,
  res_type text    not null,
  count    bigint  not null,
  primary key (job_id, part_no, res_type),
  foreign key (job_id, part_no) references import_part (job_id, part_no) on delete cascade
);

-- The error file of each input: one OperationOutcome per refused line, written with the batch
-- the line belonged to, served as NDJSON at [base]/_operations/import/{id}/errors/{part}.
create table import_error (
  job_id   uuid    not null,
  part_no  integer not null,
  line     bigint  not null,  -- 0 for the input as a whole (unreadable)
  outcome  bytea   not null,
  primary key (job_id, part_no, line),
  foreign key (job_id, part_no) references import_part (job_id, part_no) on delete cascade
);

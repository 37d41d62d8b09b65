-- InitialLoad's fast path (docs/import.md): the job's lines go to staging tables of its own,
-- named from `stage` (null when the job has none, or once they are dropped), then one merge
-- transaction moves them into the resource and index tables at once. The merge is claimed
-- like a part, under a lease; the job row's lock keeps two merges from running together.
alter table import_job add column stage text;
alter table import_job add column merge_owner text;
alter table import_job add column merge_lease_until timestamptz;
alter table import_job add column merge_attempt integer not null default 0;
